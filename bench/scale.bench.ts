// How the cost of one input grows with what it asks for, up to the limits (README, "Limits"):
// threads, memory regions, critical sections (for `check` and `disasm`), each at N and 2N so the
// ratio says linear (about 2) or worse. `npm run bench:scale`.
import { assembleSource, instantiate, readRseqTables, runChecks, disassemblyListing } from '../src/index.js';
import type { Scenario } from '../src/index.js';

const now = () => Number(process.hrtime.bigint()) / 1e9;

function timed(fn: () => void): number {
  const t0 = now();
  fn();
  return now() - t0;
}

async function threads(n: number): Promise<number> {
  const image = await assembleSource('f: movq $1, %rax\n ret\n', 'f.s');
  const scenario: Scenario = {
    source: 'f.s', cpus: 2, profile: undefined, registration: 'glibc', memory: [],
    threads: Array.from({ length: n }, (_, i) => ({ entry: 'f', args: [], cpu: i % 2, repeat: 1 })), invariants: [], maxInstructions: undefined,
  };
  return timed(() => {
    const m = instantiate(image, scenario);
    m.run();
    m.close();
  });
}

async function regions(n: number): Promise<number> {
  const image = await assembleSource('f: ret\n', 'f.s');
  const scenario: Scenario = {
    source: 'f.s', cpus: 2, profile: undefined, registration: 'glibc',
    memory: Array.from({ length: n }, (_, i) => ({ name: `r${i}`, size: 4096, init: [] })),
    threads: [{ entry: 'f', args: [], cpu: 0, repeat: 1 }], invariants: [], maxInstructions: undefined,
  };
  return timed(() => {
    const m = instantiate(image, scenario);
    m.run();
    m.close();
  });
}

/** N counter-style sections, each with its descriptor, table entry and abort handler. */
function sections(n: number): string {
  return Array.from({ length: n }, (_, i) => `
	.text
f${i}:	leaq cs${i}(%rip), %rax
	movq %rax, %fs:8
s${i}:	movq (%rdi), %rax
	addq $1, %rax
	movq %rax, (%rdi)
e${i}:	ret
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
a${i}:	ret
	.pushsection __rseq_cs, "aw"
	.balign 32
cs${i}:	.long 0, 0
	.quad s${i}, e${i} - s${i}, a${i}
	.popsection
	.pushsection __rseq_cs_ptr_array, "aw"
	.quad cs${i}
	.popsection`).join('\n');
}

async function checkAndList(n: number): Promise<number> {
  const t0 = now();
  const image = await assembleSource(sections(n), 'many.s');
  runChecks(image);
  disassemblyListing(image, readRseqTables(image));
  return now() - t0;
}

const rows: [string, (n: number) => Promise<number>, number][] = [
  // 2N reaches the ceilings: --limit liveThreads=1024 and regions=1024.
  ['threads (run to the end)', threads, 512],
  ['memory regions (instantiate and run)', regions, 512],
  ['critical sections (assemble, check, disasm)', checkAndList, 750],
];
console.log('| what | N | time at N | time at 2N | ratio |');
console.log('| --- | --- | --- | --- | --- |');
for (const [what, fn, n] of rows) {
  await fn(8); // warm-up
  const a = await fn(n);
  const b = await fn(2 * n);
  console.log(`| ${what} | ${n} | ${a.toFixed(2)} s | ${b.toFixed(2)} s | ${(b / a).toFixed(2)} |`);
}

// Fuzz cases, five families as the reliability issue names them: mutated assembly, mutated
// scenario JSON, random command lines, hostile programs, and ELF bytes (every command that takes a
// source is given mutated, truncated and absurd ELF files; readElf gets the same bytes in test/elf). Every case is a command line plus the
// files it names; `{dir}` in an argument stands for the case's own directory. Seeded: the same
// (seed, index) always gives the same case, so a failure replays from two numbers.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/explore/rng.js';
import { assembleSource } from '../../src/program.js';
import { writeElf } from '../../src/elf/writer.js';

export type Family = 'asm' | 'scenario' | 'cli' | 'program' | 'elf';
export const FAMILIES: readonly Family[] = ['asm', 'scenario', 'cli', 'program', 'elf'];

export interface FuzzCase {
  family: Family;
  argv: string[];
  files: Record<string, string>;
  /** Files whose bytes are not text, base64-encoded. */
  binary?: Record<string, string>;
}

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The seed corpus: every assembly source and scenario the project ships. */
const corpus = (() => {
  const read = (dir: string, ext: string) =>
    readdirSync(ROOT + dir).filter((f) => f.endsWith(ext)).sort().map((f) => ({ name: f, text: readFileSync(`${ROOT}${dir}/${f}`, 'utf8') }));
  return { asm: [...read('asm', '.s'), ...read('examples/programs', '.s')], scenarios: read('examples/scenarios', '.json') };
})();

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.below(items.length)]!;

const NUMBERS = ['0', '1', '-1', '7', '4096', '0x7fffffff', '0xffffffff', '2147483648', '18446744073709551615', '18446744073709551616', '-9223372036854775809', '99999999999999999999999', '0x', '1e9', '3.5', ''];
const TOKENS = [
  '%rax', '%eax', '%fs:8(%rax)', '%fs:4', '(%rdi,%rcx,8)', '0x53053053', '$0', '$-1', '1f', '1b', '2:', '.L1', '@GOTPCREL', '@tpoff', '@gottpoff', '@PLT',
  '(', ')', ',', '"', '#', ';', 'lock', 'rep', 'ud2', 'syscall', 'int3', 'jmp', 'call', 'ret', '.quad', '.long', '.byte', '.set', ...NUMBERS,
];
const DIRECTIVES = [
  '.fill 16777216, 8, 0', '.fill 100000000, 1, 0', '.skip 0x7fffffffff', '.zero 4096', '.balign 4096', '.p2align 30', '.align 3',
  '.set loop_a, loop_b + 1', '.set loop_b, loop_a + 1', '.quad undefined_symbol', '.byte 256', '.long 0x53053053', '.uleb128 -1',
  '.pushsection __rseq_cs, "aw"', '.pushsection __rseq_cs_ptr_array, "aw"', '.popsection', '.popsection', '.section .text', '.data', '.bss',
  '.loc 1 5 0', '.file 1 "x.c"', '.file 99 "y.c"', '.cfi_startproc', '.cfi_endproc', '.comm buf, 64, 32', '.globl f', '.type f, @function',
  '.reloc ., R_X86_64_NONE, x', '.incbin "/dev/zero"', '.include "/dev/zero"', '.rept 1000000', '.endr', '.macro m', '.endm', '.intel_syntax noprefix', '.att_syntax',
];

function mutateLines(rng: Rng, text: string): string {
  const lines = text.split('\n');
  for (let n = 1 + rng.below(4); n > 0; n--) {
    const i = rng.below(lines.length + 1);
    switch (rng.below(7)) {
      case 0: lines.splice(i, 1); break;
      case 1: lines.splice(i, 0, lines[rng.below(lines.length)] ?? ''); break;
      case 2: {
        const j = rng.below(lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
        break;
      }
      case 3: {
        const line = lines[i] ?? '';
        const words = line.split(/(\s+|,)/);
        words[rng.below(words.length)] = pick(rng, TOKENS);
        lines[i] = words.join('');
        break;
      }
      case 4: lines.splice(i, 0, pick(rng, DIRECTIVES)); break;
      case 5: lines.length = Math.min(lines.length, i); break;
      default: {
        const line = lines[i] ?? '';
        const at = rng.below(line.length + 1);
        lines[i] = line.slice(0, at) + String.fromCharCode(rng.below(128)) + line.slice(at);
      }
    }
  }
  return lines.join('\n');
}

/** The first label a source defines that looks like a function, for --entry. */
const entryOf = (text: string): string => /^\s*([A-Za-z_][A-Za-z0-9_]*):/m.exec(text)?.[1] ?? 'f';

function asmCase(rng: Rng): FuzzCase {
  const seed = pick(rng, corpus.asm);
  const text = mutateLines(rng, seed.text);
  const file = '{dir}/' + seed.name;
  const argv = pick(rng, [
    ['check', file],
    ['disasm', file],
    ['check', file, '--format', 'sarif'],
    ['run', file, '--entry', entryOf(text), '--memory', 'counters:64', '--memory', 'heads:16', '--arg', 'counters', '--arg', '1', '--max-insns', '20000'],
  ]);
  return { family: 'asm', argv, files: { [seed.name]: text } };
}

/** A random JSON value, sometimes deeply nested or large. */
function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.below(depth > 3 ? 4 : 8)) {
    case 0: return Number(pick(rng, ['0', '1', '-1', '64', '1e300', '9007199254740993']));
    case 1: return pick(rng, NUMBERS);
    case 2: return pick(rng, [true, false, null]);
    case 3: return pick(rng, ['heads', 'counters+8', 'nodes+1000000', 'list_push', '', 'x'.repeat(1000)]);
    case 4: return Array.from({ length: rng.below(4) }, () => randomValue(rng, depth + 1));
    case 5: return Object.fromEntries(Array.from({ length: rng.below(3) }, (_, i) => [pick(rng, ['size', 'init', 'entry', 'args', 'cpu', 'repeat', 'k' + i]), randomValue(rng, depth + 1)]));
    case 6: {
      let deep: unknown = [];
      for (let n = 200 + rng.below(3000); n > 0; n--) deep = [deep];
      return deep;
    }
    default: return Array.from({ length: 300 + rng.below(3000) }, () => ({ entry: 'list_push', args: ['heads', 'nodes'] }));
  }
}

function mutateJson(rng: Rng, value: Record<string, unknown>): Record<string, unknown> {
  const o = structuredClone(value);
  for (let n = 1 + rng.below(3); n > 0; n--) {
    const keys = Object.keys(o);
    switch (rng.below(5)) {
      case 0: delete o[pick(rng, keys)]; break;
      case 1: o[pick(rng, keys)] = randomValue(rng); break;
      case 2: o[pick(rng, ['cpus', 'profile', 'registration', 'maxInstructions', 'invariants', 'extra'])] = randomValue(rng); break;
      case 3: {
        const threads = Array.isArray(o.threads) ? (o.threads as unknown[]) : [];
        const t = threads[rng.below(threads.length)];
        if (typeof t === 'object' && t !== null && !Array.isArray(t)) (t as Record<string, unknown>)[pick(rng, ['entry', 'args', 'cpu', 'repeat'])] = randomValue(rng);
        break;
      }
      default: {
        const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
        const memory = isObject(o.memory) ? (o.memory as Record<string, unknown>) : {};
        const name = pick(rng, Object.keys(memory).length ? Object.keys(memory) : ['m']);
        const region = isObject(memory[name]) ? (memory[name] as Record<string, unknown>) : {};
        region[pick(rng, ['size', 'init'])] = randomValue(rng);
        memory[name] = region;
        o.memory = memory;
      }
    }
  }
  return o;
}

function scenarioCase(rng: Rng): FuzzCase {
  const seed = pick(rng, corpus.scenarios);
  const json = JSON.parse(seed.text) as Record<string, unknown>;
  json.source = ROOT + String(json.source).replace(/^(\.\.\/)+/, '');
  let text = JSON.stringify(mutateJson(rng, json));
  if (rng.below(6) === 0) text = text.slice(0, rng.below(text.length)); // truncated JSON
  const file = '{dir}/' + seed.name;
  const argv = rng.below(2)
    ? ['run', file, '--max-insns', '20000']
    : ['explore', file, '--workers', '1', '--max-schedules', '30', '--preemptions', '1', '--max-insns', '20000'];
  return { family: 'scenario', argv, files: { [seed.name]: text } };
}

const OPTIONS = ['--entry', '--arg', '--threads', '--memory', '--cpu', '--cpus', '--registration', '--profile', '--schedule', '--event', '--max-insns', '--trace', '--json',
  '--sig', '--format', '--mode', '--preemptions', '--depth', '--runs', '--seed', '--kinds', '--max-schedules', '--stop-at-first', '--traces', '--timeout', '--schedule-budget',
  '--limit', '--help', '-h', '--', '--bogus', '--entry=', '--json=1'];
const VALUES = [...NUMBERS, 'counter_add', 'counters', 'counters:16', 'counters:16:1,2,3', 'x:0', ':', 'counter_add(counters,1)@0;counter_add(counters,2)@1', 'f()@9',
  'preempt@.Lcounter_add_start', 'migrate:7@#3', 'signal:SIGKILL@#2', 'signal:99@x', 'c0:3 T1:preempt c1:*', 'c9:1', 'linux,bug-kvm-run', 'linux-6.19', 'nope',
  'glibc', 'none', 'sarif', 'pct', 'exhaustive', 'preempt,migrate', 'threads=1', 'mappings=99999', 'traceSteps=10', 'asm/counter_add.s', 'examples/scenarios/counter.json',
  '/dev/zero', '/dev/null', '/', 'no/such/file.s', 'a\nb.s'];

function cliCase(rng: Rng): FuzzCase {
  const argv = [pick(rng, ['run', 'check', 'explore', 'disasm', 'limits', 'help', 'frob', '--help', ''])];
  for (let n = rng.below(7); n > 0; n--) argv.push(rng.below(3) ? pick(rng, OPTIONS) : pick(rng, VALUES));
  if (argv[0] === 'explore') argv.push('--workers', '1', '--max-schedules', '50');
  return { family: 'cli', argv: argv.map((a) => (a.startsWith('asm/') || a.startsWith('examples/') ? ROOT + a : a)), files: {} };
}

/** Hostile programs: system-call storms, fork and clone bombs, huge sections, wild jumps, self-modifying code. */
const HOSTILE: ((rng: Rng) => string)[] = [
  (rng) => `f:\n1: movl $${rng.below(450)}, %eax\n movq $${pick(rng, ['0', '-1', '1', '0x400000', '4096'])}, %rdi\n movq $${pick(rng, ['0', '-1', '8', '0x7fffffffffff'])}, %rsi\n movq $${rng.below(5)}, %rdx\n syscall\n jmp 1b`,
  () => 'f:\n1: movl $24, %eax\n syscall\n jmp 1b',
  () => 'f:\n1: movl $57, %eax\n syscall\n jmp 1b',
  () => 'f:\n movq %rsp, %rsi\n subq $65536, %rsi\n1: movl $0x100, %edi\n movl $56, %eax\n syscall\n subq $4096, %rsi\n jmp 1b',
  (rng) => `f:\n movq $${pick(rng, ['0', '0x1000', '0xffffffffffffffff', '0x7ffff0000000', '0x400000'])}, %rax\n jmp *%rax`,
  () => 'f:\n call f',
  () => 'f:\n leaq f(%rip), %rax\n movb $0xc3, (%rax)\n ret',
  (rng) => `f: ret\n.bss\n.skip ${pick(rng, ['16777216', '0x1000000', '1'])}\n`.repeat(1 + rng.below(30)),
  (rng) => `f:\n movl $203, %eax\n xorl %edi, %edi\n movl $8, %esi\n leaq m(%rip), %rdx\n syscall\n movl $${rng.below(4)}, %ecx\n1: movl $203, %eax\n xorl %edi, %edi\n movl $8, %esi\n leaq m(%rip), %rdx\n btcq %rcx, (%rdx)\n syscall\n jmp 1b\n.data\nm: .quad 3`,
  (rng) => `f:\n movl $334, %eax\n leaq area(%rip), %rdi\n movl $${pick(rng, ['32', '31', '0', '64'])}, %esi\n movl $${pick(rng, ['0', '1', '2', '-1'])}, %edx\n movl $0x53053053, %r10d\n syscall\n ret\n.data\n.balign 32\narea: .fill 64, 1, 0`,
  () => 'f:\n1: movl $1, %eax\n movl $1, %edi\n leaq m(%rip), %rsi\n movl $1048576, %edx\n syscall\n jmp 1b\n.data\nm: .fill 1048576, 1, 65',
  (rng) => `f:\n movl $13, %eax\n movl $${1 + rng.below(64)}, %edi\n leaq act(%rip), %rsi\n xorl %edx, %edx\n movl $8, %r10d\n syscall\n movl $62, %eax\n movl $0, %edi\n movl $${1 + rng.below(64)}, %esi\n syscall\n ret\nh: ret\n.data\nact: .quad h, 0x04000000, f, 0`,
  () => 'f:\n movl $0xAE80, %esi\n1: movl $16, %eax\n syscall\n jmp 1b',
];

function programCase(rng: Rng): FuzzCase {
  const text = pick(rng, HOSTILE)(rng);
  const file = '{dir}/hostile.s';
  const argv = rng.below(3)
    ? ['run', file, '--entry', 'f', '--max-insns', '30000']
    : ['explore', file, '--threads', 'f()@0;f()@1', '--workers', '1', '--max-schedules', '20', '--max-insns', '20000'];
  return { family: 'program', argv, files: { 'hostile.s': text } };
}

/**
 * Valid ELF files the writer makes from two shipped sources: the seeds the elf family mutates.
 * Made by prepareElfSeeds(), not by a top-level await: a module with one cannot be require()d, and
 * mocha then loads the test files that import it as ES modules, beside the others loaded through
 * require — two copies of the emulator's bindings in one process ("Duplicate type name").
 */
let elfSeeds: Uint8Array[] | null = null;

export async function prepareElfSeeds(): Promise<void> {
  elfSeeds ??= await Promise.all(['asm/counter_add.s', 'asm/percpu_list.s'].map(async (name) =>
    writeElf(await assembleSource(readFileSync(ROOT + name, 'utf8'), name), { compDir: ROOT, entry: 0x400000n, regions: [{ name: 'counters', address: 0x10000000n, size: 64 }] })));
}

/** Numbers a hostile header might hold in a count, offset or size field. */
const ABSURD = [0n, 1n, 0x7fn, 0xffffn, 0x7fffffffn, 0xffffffffn, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 64n];

/** Writes `value` (truncated to `size` bytes) little-endian at `at`, when it fits in the file. */
function poke(b: Uint8Array, at: number, size: 1 | 2 | 4 | 8, value: bigint): void {
  if (at < 0 || at + size > b.length) return;
  for (let i = 0; i < size; i++) b[at + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

const u16 = (b: Uint8Array, at: number) => (at + 2 <= b.length ? b[at]! | (b[at + 1]! << 8) : 0);
const u64 = (b: Uint8Array, at: number) => (at + 8 <= b.length ? new DataView(b.buffer, b.byteOffset).getBigUint64(at, true) : 0n);

/**
 * ELF bytes: the writer's own output with bytes flipped, cut short (inside the file header too),
 * or with absurd counts, offsets, sizes and indices in the file, program or section headers; now
 * and then only the magic followed by noise.
 */
export function elfBytes(rng: Rng): Uint8Array {
  if (!elfSeeds) throw new Error('elfBytes: call prepareElfSeeds() first');
  const b = Uint8Array.from(pick(rng, elfSeeds));
  const shoff = Number(u64(b, 0x28));
  const shnum = u16(b, 0x3c);
  const phoff = Number(u64(b, 0x20));
  for (let n = 1 + rng.below(3); n > 0; n--) {
    switch (rng.below(8)) {
      case 0: for (let k = 1 + rng.below(8); k > 0; k--) b[rng.below(b.length)] = rng.below(256); break;
      // file header: e_phoff, e_shoff, then the 16-bit sizes, counts and e_shstrndx
      case 1: poke(b, pick(rng, [0x20, 0x28]), 8, pick(rng, ABSURD)); break;
      case 2: poke(b, pick(rng, [0x34, 0x36, 0x38, 0x3a, 0x3c, 0x3e]), 2, pick(rng, ABSURD)); break;
      // a section header: sh_name, sh_type, sh_link (4 bytes); sh_offset, sh_size, sh_entsize (8)
      case 3: poke(b, shoff + rng.below(Math.max(shnum, 1)) * 64 + pick(rng, [0, 4, 40, 44]), 4, pick(rng, ABSURD)); break;
      case 4: poke(b, shoff + rng.below(Math.max(shnum, 1)) * 64 + pick(rng, [24, 32, 56]), 8, pick(rng, ABSURD)); break;
      // a program header: p_offset, p_filesz, p_memsz
      case 5: poke(b, phoff + pick(rng, [8, 32, 40]), 8, pick(rng, ABSURD)); break;
      case 6: return b.slice(0, rng.below(rng.below(2) ? 64 : b.length));
      default: return Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, ...Array.from({ length: rng.below(600) }, () => rng.below(256))]);
    }
  }
  return b;
}

function elfCase(rng: Rng): FuzzCase {
  const file = '{dir}/input.elf';
  const argv = pick(rng, [
    ['run', file, '--entry', 'counter_add', '--max-insns', '20000'],
    ['check', file],
    ['disasm', file],
    ['explore', file, '--threads', 'f()@0;f()@1', '--workers', '1', '--max-schedules', '10', '--max-insns', '20000'],
  ]);
  return { family: 'elf', argv, files: {}, binary: { 'input.elf': Buffer.from(elfBytes(rng)).toString('base64') } };
}

const MAKERS: Record<Family, (rng: Rng) => FuzzCase> = { asm: asmCase, scenario: scenarioCase, cli: cliCase, program: programCase, elf: elfCase };

/** Case `index` of the run seeded with `seed`, from the families given (round-robin). */
export function fuzzCase(seed: number, index: number, families: readonly Family[] = FAMILIES): FuzzCase {
  const rng = Rng.forRun(seed, index);
  return MAKERS[families[index % families.length]!](rng);
}

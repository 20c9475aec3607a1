// Fidelity: the kernel model held against the real kernel of this machine, instruction by
// instruction. For every op in asm/ (and the broken twins) and the edge sources (descriptor and
// area cases, user handlers, nested signals, a fork child, raw clone threads), every instruction
// an unperturbed call executes (any of its tasks; not those two tasks both execute), and each of
// preempt / migrate / signal before it, the native harness (harness.c, built here with gcc; ptrace
// + int3) and the emulator must agree on which task the event hit, its outcome, where the thread
// resumes, cpu_id afterwards, the final memory, the return value and how the process ended.
// Native rows run three times and take the majority; a row that still differs is re-run five more
// times before it fails. Skipped when rseq is not available natively.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FORK_CALLS, NESTED_CALLS, THREAD_CALLS, writeVariants } from './edge-variants.js';
import { EmulatedOp } from './emulated-side.js';
import { build, runNative, unavailable, type Probe } from './native-side.js';
import { describe as show, type EventKind, type OpCase, type Row } from './rows.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const HARNESS = path.join(here, 'harness.c');
const KINDS: EventKind[] = ['preempt', 'migrate', 'signal'];

const counter = (file: string): OpCase => ({ file, entry: 'counter_add', memSize: 16, init: ['100', '200'], args: ['m+0', '5'] });
/** Every op of asm/ with memory and arguments for one call (the cpu-opv variants need cpu_opv, which no kernel has). */
export const OPS: OpCase[] = [
  counter('asm/counter_add.s'),
  { file: 'asm/cmpeqv_storev.s', entry: 'cmpeqv_storev', memSize: 16, init: ['7', '7'], args: ['m+0', '7', '9'] },
  { file: 'asm/percpu_list.s', entry: 'list_push', memSize: 32, init: ['0', '0', '0', '77'], args: ['m+0', 'm+16'] },
  { file: 'asm/percpu_list.s', entry: 'list_pop', memSize: 48, init: ['m+16', 'm+32', '0', '1', '0', '2'], args: ['m+0'] },
  { file: 'asm/buffer_push.s', entry: 'buffer_push', memSize: 256, init: ['0', '14', ...Array(14).fill('0'), '0', '14'], args: ['m+0', '42'] },
  { file: 'asm/memcpy_buffer_push.s', entry: 'memcpy_buffer_push', memSize: 528, init: ['0', '15', ...Array(30).fill('0'), '0', '15', ...Array(30).fill('0'), '4369', '8738'], args: ['m+0', 'm+512'] },
  ...fs.readdirSync(path.join(root, 'asm')).filter((f) => /^counter_add\.bug-.*\.s$/.test(f)).sort().map((f) => counter(`asm/${f}`)),
  counter('test/fidelity/edge/segv-handler.s'),
  ...['counter_add', 'counter_add_nodefer'].map((entry): OpCase => ({ file: 'test/fidelity/edge/usr1-handler.s', entry, memSize: 40, init: ['100', '200'], args: ['m+0', '5'] })),
  { file: 'test/fidelity/edge/read-area.s', entry: 'read_area', memSize: 40, init: [], args: ['m+0'] },
  { file: 'test/fidelity/edge/read-area.s', entry: 'read_area', memSize: 40, init: [], args: ['m+0'], registration: 'none' },
  { file: 'test/fidelity/edge/fork-child.s', entry: 'fork_in_section', memSize: 16, init: [], args: ['m+0'] },
  ...([['fork-child.s', FORK_CALLS], ['threads.s', THREAD_CALLS], ['nested-signal.s', NESTED_CALLS]] as const).flatMap(([file, calls]) =>
    calls.entries.map((entry): OpCase => ({ file: `test/fidelity/edge/${file}`, entry, memSize: calls.memSize, init: [...calls.init], args: [...calls.args] })),
  ),
];

const same = (a: Row, b: Row): boolean => show(a) === show(b);

/** The most frequent row among repeated native runs. */
function majority(runs: Row[]): Row {
  const counts = new Map<string, { row: Row; n: number }>();
  for (const r of runs) {
    const k = show(r);
    const c = counts.get(k) ?? { row: r, n: 0 };
    c.n++;
    counts.set(k, c);
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]!.row;
}

/** Native rows for all probes: three runs each, then five more for a row that differs from `expected`. */
function nativeRows(binary: string, op: OpCase, probes: Probe[], expected: Row[]): Row[] {
  const runs = [0, 1, 2].map(() => runNative(binary, op, probes));
  const rows = probes.map((_, i) => majority(runs.map((r) => r[i]!)));
  const differing = probes.map((p, i) => ({ p, i })).filter(({ i }) => !same(rows[i]!, expected[i]!));
  if (differing.length) {
    const again = [0, 1, 2, 3, 4].map(() => runNative(binary, op, differing.map((d) => d.p)));
    differing.forEach(({ i }, j) => (rows[i] = majority([...runs.map((r) => r[i]!), ...again.map((r) => r[j]!)])));
  }
  return rows;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-fidelity-'));
const why = unavailable(dir);
OPS.push(...writeVariants(root, dir));

describe('fidelity: the kernel model against the real kernel', function () {
  this.timeout(240_000);
  before(function () {
    if (why) {
      console.log(`      fidelity suite skipped: ${why}`);
      this.skip();
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const op of OPS) {
    it(`agrees on every instruction of ${op.entry} in ${path.basename(op.file)}${op.registration === 'none' ? ' (glibc.pthread.rseq=0)' : ''} × preempt/migrate/signal`, async () => {
      const emu = await EmulatedOp.load(path.resolve(root, op.file), op);
      const { offsets, shared } = emu.instructions();
      tally.shared += shared;
      const probes: Probe[] = offsets.flatMap((offset) => KINDS.map((kind) => ({ kind, offset })));
      assert.ok(probes.length >= 3 * 5, `only ${probes.length} probes for ${op.entry}`);
      const expected = probes.map((p) => emu.row(p));
      const binary = build(dir, path.resolve(root, op.file), HARNESS);
      const native = nativeRows(binary, op, probes, expected);
      const diffs = probes.flatMap((p, i) => (same(native[i]!, expected[i]!) ? [] : [`${p.kind} @ ${op.entry}+${p.offset}:\n  kernel   ${show(native[i]!)}\n  emulator ${show(expected[i]!)}`]));
      tally.rows += probes.length;
      tally.agree += probes.length - diffs.length;
      for (const r of native) {
        tally.outcomes.set(r.outcome ?? 'unreached', (tally.outcomes.get(r.outcome ?? 'unreached') ?? 0) + 1);
        tally.ends.set(r.end, (tally.ends.get(r.end) ?? 0) + 1);
      }
      assert.ok(diffs.length === 0, `${diffs.length} of ${probes.length} rows differ:\n${diffs.join('\n')}`);
    });
  }

  const tally = { rows: 0, agree: 0, shared: 0, outcomes: new Map<string, number>(), ends: new Map<string, number>() };
  after(() => {
    if (!why) console.log(`      fidelity: ${tally.agree} of ${tally.rows} rows agree (kernel outcomes: ${[...tally.outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}; ends: ${[...tally.ends].map(([k, n]) => `${k} ×${n}`).join(', ')}; instructions two tasks execute, not probed: ${tally.shared})`);
  });
});

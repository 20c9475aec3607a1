// Scenarios for exploration tests: the bundled ones, a three-thread counter scenario whose
// source can be swapped for a broken twin, and memcpy-buffer's push beside a free-space reader.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strict as assert } from 'node:assert';
import type { Image } from '../../src/asm/image.js';
import { assembleSource, loadProgram } from '../../src/program.js';
import { loadScenario, scenarioFromJson, type Scenario } from '../../src/scenario/scenario.js';

export const SCENARIOS = fileURLToPath(new URL('../../examples/scenarios/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function bundledScenario(name: string): Promise<{ scenario: Scenario; image: Image }> {
  const scenario = await loadScenario(SCENARIOS + name);
  return { scenario, image: await loadProgram(scenario.source) };
}

/** Two threads of counter_add on CPU 0 and one on CPU 1, running `asm/FILE`. */
/** The three-thread counter_add scenario for `asm/FILE`, as scenario JSON (its source an absolute path). */
export const counterScenarioJson = (file: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  source: `${ROOT}asm/${file}`,
  cpus: 2,
  memory: { counters: { size: 16 } },
  threads: [
    { entry: 'counter_add', args: ['counters', 1], cpu: 0 },
    { entry: 'counter_add', args: ['counters', 10], cpu: 0 },
    { entry: 'counter_add', args: ['counters', 100], cpu: 1 },
  ],
  ...extra,
});

export async function counterScenario(file: string, extra: Record<string, unknown> = {}): Promise<{ scenario: Scenario; image: Image }> {
  const scenario = scenarioFromJson(counterScenarioJson(file, extra), ROOT + 'scenario.json');
  return { scenario, image: await loadProgram(scenario.source) };
}

/**
 * percpu_spinlock.s with its lock released before the new count is stored (a lost update), two
 * threads on CPU 0 (and, with `third`, one on CPU 1) and a `timeSlice`-instruction slice: one
 * spins while the other holds the lock, and ticks come within the runs.
 */
export async function brokenSpinlock(timeSlice = 40, third = false): Promise<{ scenario: Scenario; image: Image }> {
  const correct = readFileSync(ROOT + 'asm/percpu_spinlock.s', 'utf8');
  const store = '\tmovq %r9, (%rsi,%r8,8)\n';
  const release = '\tmovq $0, (%rdi,%r8,8)\n';
  const broken = correct.replace(store + release, release + store);
  assert.notEqual(broken, correct, 'percpu_spinlock.s stores the count, then releases the lock');
  const scenario = scenarioFromJson({
    source: 'asm/percpu_spinlock.s',
    cpus: 2,
    timeSlice,
    memory: { locks: { size: 16 }, counts: { size: 16 } },
    threads: [
      { entry: 'spinlock_add', args: ['locks', 'counts', 1], cpu: 0 },
      { entry: 'spinlock_add', args: ['locks', 'counts', 10], cpu: 0 },
      ...(third ? [{ entry: 'spinlock_add', args: ['locks', 'counts', 100], cpu: 1 }] : []),
    ],
    invariants: [{ region: 'counts', sum64: third ? 111 : 11 }, { region: 'locks', equals64: [0, 0] }],
  }, ROOT + 'scenario.json');
  return { scenario, image: await assembleSource(broken, 'percpu_spinlock.bug-release-early.s') };
}

// A reader of a per-CPU buffer's free space: the byte past its count, which an aborted copy may
// have written (and a serial order never has).
const PEEK = `
	.text
	.globl membuf_peek_free
	.type membuf_peek_free, @function
membuf_peek_free:
	movq __rseq_offset(%rip), %rcx
	movl %fs:4(%rcx), %r8d
	movq %r8, %r9
	shlq $8, %r9
	addq %rdi, %r9
	movq 0(%r9), %r10
	shlq $4, %r10
	movzbl 16(%r9,%r10), %eax
	ret
`;

/**
 * memcpy_buffer_push on CPU 0 beside membuf_peek_free there, written to a scenario file of its
 * own (worker threads and the CLI load sources by path); returns the scenario's path.
 */
export function writePeekScenario(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-peek-'));
  writeFileSync(join(dir, 'memcpy_buffer_peek.s'), readFileSync(`${ROOT}asm/memcpy_buffer_push.s`, 'utf8') + PEEK);
  const scenario = {
    source: 'memcpy_buffer_peek.s',
    cpus: 2,
    memory: { bufs: { size: 512, init: [0, 15, ...Array(30).fill(0), 0, 15] }, items: { size: 32, init: ['0x1111111111111111', '0x2222222222222222'] } },
    threads: [
      { entry: 'memcpy_buffer_push', args: ['bufs', 'items+0'], cpu: 0 },
      { entry: 'membuf_peek_free', args: ['bufs'], cpu: 0 },
    ],
  };
  writeFileSync(join(dir, 'peek.json'), JSON.stringify(scenario));
  return join(dir, 'peek.json');
}

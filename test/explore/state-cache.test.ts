// The state cache (issue 14): skipping states already explored must never change what a search
// reports — same verdict, same set of violation kinds and messages — for every bundled scenario
// and every broken twin; the fingerprint tells apart states that differ in anything the future or
// the judge reads; and the cache's own rules (deviations left, budget, capacity).
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Image } from '../../src/asm/image.js';
import { readRseqTables, type RseqTables } from '../../src/abi/tables.js';
import { explore, exploreShare, type ExploreOptions, type ExploreResult } from '../../src/explore/explorer.js';
import { createStateTableMemory, StateTable } from '../../src/explore/state-table.js';
import { exploreParallel } from '../../src/explore/explore-workers.js';
import { StateCache, type Covering } from '../../src/explore/state-cache.js';
import { ALL_DEVIATIONS, sharedAccessPoints, splitPoints, type DeviationSpace } from '../../src/explore/deviations.js';
import { EventTwins } from '../../src/explore/event-twins.js';
import { CommutingWalk, registerOnlyPoints } from '../../src/explore/commuting.js';
import { exhaustiveSearch } from '../../src/explore/exhaustive.js';
import { stateFingerprint, type PureStepFrom, type StateFingerprint } from '../../src/explore/state-hash.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import type { Machine } from '../../src/kernel/machine.js';
import { assembleSource, loadProgram } from '../../src/program.js';
import { loadScenario, scenarioFromJson, type Scenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { parseProfile } from '../../src/kernel/profile.js';
import { brokenSpinlock, bundledScenario, counterScenario, SCENARIOS } from './fixtures.js';

const ASM = fileURLToPath(new URL('../../asm/', import.meta.url));
const base = (file: string) => file.replace(/^.*\//, '').replace(/\..*$/, '');

/** What a search reports, schedule strings aside (a skipped subtree's violation is found on another route). */
function reported(r: ExploreResult): { verdict: string; complete: boolean; found: string[] } {
  return { verdict: r.verdict, complete: r.complete, found: [...new Set(r.violations.map((v) => `${v.kind}: ${v.message}`))].sort() };
}

function bothWays(scenario: Scenario, image: Image, options: ExploreOptions): { on: ExploreResult; off: ExploreResult } {
  const all = { keepViolations: 1_000_000, ...options };
  return { on: explore(image, scenario, { ...all, stateCache: true }), off: explore(image, scenario, { ...all, stateCache: false }) };
}

describe('state cache', function () {
  this.timeout(900_000);

  describe('reports what the search without it reports', () => {
    // K = 2 where that space is small enough for a test; K = 1 for the scenarios whose K = 2 space
    // runs to 10^5 schedules (memcpy-buffer, spinlock) or whose op runs long (cpu_opv).
    const bounds: Record<string, number> = { 'memcpy-buffer.json': 1, 'spinlock.json': 1, 'cmpeqv-cpu-opv.json': 1, 'counter-cpu-opv.json': 1, 'buffer.json': 1 };
    const scenarios = readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')).sort();
    for (const name of scenarios) {
      const K = bounds[name] ?? 2;
      it(`${name} at K = ${K}: same verdict and violations, no more schedules`, async () => {
        const { scenario, image } = await bundledScenario(name);
        const { on, off } = bothWays(scenario, image, { preemptions: K });
        assert.deepEqual(reported(on), reported(off));
        assert.ok(on.schedules <= off.schedules, `${on.schedules} schedules with the cache, ${off.schedules} without`);
        assert.equal(off.stateCache, undefined);
      });
    }
    // Each broken twin runs in the bundled scenario of its correct op (counter_add's in the
    // three-thread scenario explore.test.ts uses for them).
    const homes: Record<string, string | null> = { counter_add: null, counter_addv: 'counter-addv.json', mm_cid_counter: 'mm-cid-counter.json', slab_stack: 'slab-stack.json' };
    const twins = readdirSync(ASM).filter((f) => /\.bug-[a-z0-9-]+\.s$/.test(f)).sort();
    for (const twin of twins) {
      it(`${twin} at K = 2: same verdict and violations`, async () => {
        const home = homes[base(twin)];
        assert.ok(home !== undefined, `no scenario for ${twin}: add its op to this table`);
        let scenario: Scenario;
        let image: Image;
        if (home === null) ({ scenario, image } = await counterScenario(twin));
        else {
          scenario = { ...(await loadScenario(SCENARIOS + home)), source: ASM + twin };
          image = await loadProgram(scenario.source);
        }
        const { on, off } = bothWays(scenario, image, { preemptions: 2 });
        assert.equal(off.verdict, 'fail', `${twin} is not found without the cache`);
        assert.deepEqual(reported(on), reported(off));
      });
    }
  });

  // From K = 3 on, events one register-only instruction apart stand for each other below the top
  // level too (commuting.ts), where they stand for whole subtrees.
  for (const twin of ['counter_add.bug-late-rseq-cs.s', 'counter_add.bug-no-cpu-compare.s', 'counter_add.bug-commit-outside.s']) {
    it(`${twin} at K = 3, two threads on one CPU: same verdict and violations`, async () => {
      const { scenario, image } = await counterScenario(twin, {
        threads: [{ entry: 'counter_add', args: ['counters', 1], cpu: 0 }, { entry: 'counter_add', args: ['counters', 10], cpu: 0 }],
      });
      const { on, off } = bothWays(scenario, image, { preemptions: 3 });
      assert.equal(off.verdict, 'fail', `${twin} is not found without the cache`);
      assert.deepEqual(reported(on), reported(off));
    });
  }

  it('finds every twin of counter_add first within the schedule budgets explore.test.ts holds', async () => {
    const budgets: [string, number][] = [
      ['counter_add.bug-wrong-signature.s', 50], ['counter_add.bug-no-signature.s', 50], ['counter_add.bug-abort-inside.s', 50], ['counter_add.bug-version-1.s', 50],
      ['counter_add.bug-commit-outside.s', 200], ['counter_add.bug-late-rseq-cs.s', 200], ['counter_add.bug-no-cpu-compare.s', 1500],
    ];
    for (const [file, within] of budgets) {
      const { scenario, image } = await counterScenario(file);
      const r = explore(image, scenario, { stopAtFirst: true, stateCache: true });
      assert.equal(r.verdict, 'fail', file);
      assert.ok(r.schedules <= within, `${file}: first violation after ${r.schedules} schedules`);
    }
  });

  // The search passes each fingerprint the one of the state a pure step before and the thread that
  // stepped: it reuses the kernel part, every other thread's context and, unless the stack pointer
  // moved, the memory digest.
  /** Searches `scenario` at K = `bound`, requiring every fingerprint made from an earlier one to be the one made afresh. */
  function reusedAsFresh(image: Image, scenario: Scenario, bound: number): void {
    const tables = readRseqTables(image);
    const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    let reused = 0;
    const fingerprint = (x: Machine, from?: PureStepFrom | null): StateFingerprint => {
      const fresh = stateFingerprint(x, tables);
      if (!from) return fresh;
      const made = stateFingerprint(x, tables, from);
      assert.deepEqual({ key: made.key, exact: made.exact }, { key: fresh.key, exact: fresh.exact }, `at ${x.instructions}: ${x.schedule()}`);
      reused++;
      return made;
    };
    try {
      m.begin();
      const space = { kinds: ALL_DEVIATIONS, switchPoints: sharedAccessPoints(image), splitPoints: splitPoints(image), flagsMatter: false };
      const registerOnly = registerOnlyPoints(image);
      const walk = () => new CommutingWalk(m, m.timeSlice, registerOnly);
      exhaustiveSearch(m, bound, space, { leaf: () => true }, { part: 0, of: 1 }, { states: new StateCache(100_000, fingerprint), twins: new EventTwins(m, tables, m.timeSlice), walk });
      assert.ok(reused > 0, 'no fingerprint was made from an earlier one');
    } finally {
      m.close();
    }
  }
  for (const [name, bound] of [['counter.json', 2], ['list.json', 2], ['spinlock.json', 2], ['mm-cid-counter.json', 2], ['counter-two-threads.json', 3]] as const) {
    it(`over ${name} at K = ${bound}, a fingerprint made from the one a pure step before is the one made afresh`, async () => {
      const { scenario, image } = await bundledScenario(name);
      reusedAsFresh(image, scenario, bound);
    });
  }
  it('makes the same fingerprint from the one a pure step before when that step moved the stack pointer (the dead stack moves)', async () => {
    // Two threads on two CPUs open and close a frame with register-only steps between stores.
    const source = '\t.text\n\t.globl frame\nframe:\n\tmovq %rsi, (%rdi)\n\tsubq $48, %rsp\n\taddq $1, %rax\n\taddq $48, %rsp\n\tmovq (%rdi), %rax\n\tret\n';
    const image = await assembleSource(source, 'frame.s');
    const scenario = scenarioFromJson({ source: 'frame.s', cpus: 2, memory: { cell: { size: 8 } }, threads: [{ entry: 'frame', args: ['cell', 1], cpu: 0 }, { entry: 'frame', args: ['cell', 2], cpu: 1 }] }, fileURLToPath(new URL('./scenario.json', import.meta.url)));
    reusedAsFresh(image, scenario, 2);
  });

  describe('the fingerprint', () => {
    let machine: Machine;
    let key: () => string;
    let tables: RseqTables;
    beforeEach(async () => {
      const { scenario, image } = await bundledScenario('counter.json');
      machine = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
      tables = readRseqTables(image);
      key = () => stateFingerprint(machine, tables).key;
      machine.begin();
    });
    afterEach(() => machine.close());

    it('is the same for a state restored from its snapshot after running on', () => {
      machine.step({ kind: 'run', cpu: 0, count: 5 });
      const here = machine.capture();
      const before = key();
      machine.step({ kind: 'run', cpu: 1, count: 3 });
      assert.notEqual(key(), before);
      machine.restore(here);
      assert.equal(key(), before);
    });

    it('changes with one byte of shared memory', () => {
      const before = key();
      const r = machine.regions.get('counters')!;
      machine.emu.write(r.address + 3n, Uint8Array.of(1));
      assert.notEqual(key(), before);
    });

    it('changes with each change of a context byte outside the register block', () => {
      const t = machine.allThreads()[0]!;
      const emu = t.process.emu;
      const bytes = machine.contextOf(t);
      const at = bytes.length - 64; // far past the register block (bytes 16 to 192)
      const before = key();
      const keys = [1, 2].map((bit) => {
        const edited = bytes.slice();
        edited[at] ^= bit;
        emu.writeContext(t.context, edited);
        assert.equal(machine.contextOf(t)[at], edited[at]); // the edit is the thread's saved context
        return key();
      });
      assert.notEqual(keys[0], before);
      assert.notEqual(keys[1], before);
      assert.notEqual(keys[1], keys[0]);
      emu.writeContext(t.context, bytes);
      assert.equal(key(), before);
    });

    it('changes with one byte of a stack within the red zone below the stack pointer', () => {
      const before = key();
      const t = machine.allThreads()[0]!;
      machine.emu.write(machine.registersOf(t).rsp - 100n, Uint8Array.of(0x5a));
      assert.notEqual(key(), before);
    });

    it('ignores a stack below its red zone, which Linux may overwrite at any instruction', () => {
      const before = key();
      const t = machine.allThreads()[0]!;
      machine.emu.write(machine.registersOf(t).rsp - 512n, Uint8Array.of(0x5a));
      assert.equal(key(), before);
    });

    it('hashes a stack page by the dead range it has now, when the stack pointer moved and the page was not written since', () => {
      const t = machine.allThreads()[0]!;
      const rsp = machine.registersOf(t).rsp;
      const below = rsp - 256n;
      assert.equal(below >> 12n, rsp >> 12n, 'the byte lies in the stack pointer\'s page'); // else no page is hashed in part twice
      machine.emu.write(below, Uint8Array.of(0x5a)); // below the red zone: dead
      key(); // the page is hashed with that byte left out
      t.process.emu.setReg('rsp', machine.registersOf(t).rsp - 256n); // the byte is at the stack pointer now: live
      assert.equal(machine.registersOf(t).rsp, below);
      const moved = key();
      machine.emu.write(below, Uint8Array.of(0x5a)); // the same byte again: a fresh copy of the page, hashed anew
      assert.equal(key(), moved);
    });

    // counter.json's T1 starts at counter_add, whose first instructions write %rcx, %r8, %r9 and
    // %rax before reading them and read %rdi and %rsi (the arguments).
    it('ignores a register the thread writes before reading it on every path, aborts included', () => {
      const t = machine.allThreads()[0]!;
      const before = key();
      t.process.emu.setReg('r9', machine.registersOf(t).r9 + 1n);
      assert.equal(key(), before);
      t.process.emu.setReg('rdi', machine.registersOf(t).rdi + 8n);
      assert.notEqual(key(), before);
    });

    it('keeps every register of a thread with an event waiting whose abort was not predicted', () => {
      const t = machine.allThreads()[0]!;
      machine.step({ kind: 'run', cpu: 0, count: 5 }); // T1 stands at the section's branch to its abort handler
      machine.step({ kind: 'event', tid: t.tid, event: { kind: 'preempt' } });
      // A signal still to deliver: no abort is predicted (pending-abort.ts), though the fix-up will abort.
      t.pendingSignals = [...t.pendingSignals, 10];
      const before = key();
      t.process.emu.setReg('r9', machine.registersOf(t).r9 + 1n);
      assert.notEqual(key(), before);
    });

    it('keeps every register of a thread whose process has a signal handler, which reads them in its frame', () => {
      const t = machine.allThreads()[0]!;
      t.process.sigactions.set(10, { handler: 0x400000n, flags: 0n, restorer: 0n, mask: 0n });
      const before = key();
      t.process.emu.setReg('r9', machine.registersOf(t).r9 + 1n);
      assert.notEqual(key(), before);
    });

    it('ignores the stack of a thread that has exited below its last red zone, where its signal frames were', () => {
      const t = machine.allThreads()[0]!;
      machine.step({ kind: 'run', cpu: 0, count: null });
      assert.equal(t.state, 'exited');
      const before = key();
      const rsp = machine.registersOf(t).rsp;
      machine.emu.write(rsp - 512n, Uint8Array.of(0x5a));
      assert.equal(key(), before);
      machine.emu.write(rsp - 8n, Uint8Array.of(0x5a));
      assert.notEqual(key(), before);
    });

    it('ignores the registers of a thread that has exited', () => {
      const t = machine.allThreads()[0]!;
      machine.step({ kind: 'run', cpu: 0, count: null }); // T1 runs its call to the end
      assert.equal(t.state, 'exited');
      const before = key();
      const live = machine.registersOf(t);
      t.process.emu.setReg('r15', live.r15 + 1n);
      assert.equal(key(), before);
    });

    it('changes with one register of a thread that is not running', () => {
      machine.step({ kind: 'run', cpu: 0, count: 2 });
      const before = key();
      const here = machine.capture();
      machine.step({ kind: 'event', tid: machine.allThreads()[2]!.tid, event: { kind: 'migrate', cpu: 0 } });
      machine.restore(here);
      assert.equal(key(), before);
      const t = machine.allThreads()[1]!;
      const emu = t.process.emu;
      const live = machine.registersOf(t); // loads t's registers into the emulator
      emu.setReg('r15', live.r15 + 1n);
      assert.notEqual(key(), before);
    });

    it('keeps the part of its time slice a thread has used beside the key, not in it', () => {
      const t = machine.allThreads()[0]!;
      const before = stateFingerprint(machine, tables);
      t.sliceUsed += 1;
      const after = stateFingerprint(machine, tables);
      assert.equal(after.key, before.key);
      assert.notEqual(after.slices, before.slices);
      assert.equal(after.maxSlice, before.maxSlice + 1);
    });

    it('counts no time slice for a thread that has exited, which never runs again', () => {
      const [t1, t2] = machine.allThreads();
      machine.step({ kind: 'run', cpu: 0, count: null }); // T1 runs its call to the end
      assert.equal(t1!.state, 'exited');
      const before = stateFingerprint(machine, tables);
      t1!.sliceUsed += 5;
      assert.deepEqual(stateFingerprint(machine, tables).counts, before.counts);
      t2!.sliceUsed += 5; // a live thread's count still counts
      assert.notDeepEqual(stateFingerprint(machine, tables).counts, before.counts);
    });

    it('counts no time slice for the last live thread: no thread is left to share its CPU', () => {
      const threads = machine.allThreads();
      machine.step({ kind: 'run', cpu: 0, count: null });
      machine.step({ kind: 'run', cpu: 0, count: null });
      assert.deepEqual(threads.map((t) => t.state), ['exited', 'exited', 'runnable']);
      const before = stateFingerprint(machine, tables);
      threads[2]!.sliceUsed += 5;
      assert.deepEqual(stateFingerprint(machine, tables).counts, before.counts);
      assert.deepEqual(before.counts, [0, 0, 0]);
    });

    it('keeps the count of the last live thread when its code can enter the kernel (a clone would bring another)', async () => {
      const image = await assembleSource('\t.text\n\t.globl quick\nquick:\n\tret\n\t.globl slow\nslow:\n\tnop\n\tmovl $39, %eax\n\tsyscall\n\tret\n', 'slow.s');
      const scenario = scenarioFromJson({ source: 'slow.s', cpus: 1, threads: [{ entry: 'quick', cpu: 0 }, { entry: 'slow', cpu: 0 }] }, fileURLToPath(new URL('./scenario.json', import.meta.url)));
      const m = instantiate(image, scenario);
      try {
        m.begin();
        const threads = m.allThreads();
        m.step({ kind: 'run', cpu: 0, count: null });
        assert.deepEqual(threads.map((t) => t.state), ['exited', 'runnable']);
        const before = stateFingerprint(m, readRseqTables(image));
        threads[1]!.sliceUsed += 1;
        assert.notDeepEqual(stateFingerprint(m, readRseqTables(image)).counts, before.counts);
      } finally {
        m.close();
      }
    });

    describe('an event mask left over from an event outside a section', () => {
      // T1 holds CPU 0's lock, preempted; T2 spins on it. A signal to T2 outside its section
      // leaves the signal bit set (the fix-up clears rseq_cs there without consuming the mask).
      const SPINNING = 'c0:10 T1:preempt c1:15 c0:414';
      const SIGNALLED = 'c0:10 T1:preempt c1:15 c0:405 T2:signal:SIGUSR1 c0:12';
      const keyAfter = (image: Image, scenario: Scenario, schedule: string, profile?: string): string => {
        const m = instantiate(image, scenario, profile ? parseProfile(profile) : undefined, { trackSpeculativeStores: true });
        try {
          m.begin();
          for (const item of parseSchedule(schedule)) m.step(item);
          assert.equal(m.thread(2)!.eventMask !== 0, schedule === SIGNALLED, 'the signal bit is left over only after the signal');
          return stateFingerprint(m, readRseqTables(image)).key;
        } finally {
          m.close();
        }
      };

      it('is left out when every later fix-up comes with an event of its own', async () => {
        const { scenario, image } = await bundledScenario('spinlock.json');
        assert.equal(keyAfter(image, scenario, SIGNALLED), keyAfter(image, scenario, SPINNING));
      });

      it('is kept under linux-5.x, where a section\'s flags tell the event bits apart', async () => {
        const { scenario, image } = await bundledScenario('spinlock.json');
        assert.notEqual(keyAfter(image, scenario, SIGNALLED, 'linux-5.x'), keyAfter(image, scenario, SPINNING, 'linux-5.x'));
      });

      it('is kept when the code can enter the kernel (an rseq registration makes a fix-up pass with no event)', async () => {
        const { scenario } = await bundledScenario('spinlock.json');
        const source = readFileSync(`${ASM}percpu_spinlock.s`, 'utf8') + '\n\t.text\n\t.globl enter\nenter:\n\tsyscall\n\tret\n';
        const image = await assembleSource(source, 'percpu_spinlock.s');
        assert.notEqual(keyAfter(image, scenario, SIGNALLED), keyAfter(image, scenario, SPINNING));
      });
    });

    it('changes with what a call returned and which ids it observed, which the judge reads', () => {
      const t = machine.allThreads()[0]!;
      const before = key();
      t.program!.returns = [...t.program!.returns, 0n];
      const withReturn = key();
      assert.notEqual(withReturn, before);
      t.program!.idsThisCall = [...t.program!.idsThisCall, { cpu: 1, node: 0, mmCid: 1 }];
      assert.notEqual(key(), withReturn);
    });

    it('ignores instruction counts, which the cache compares with the budget instead', () => {
      const t = machine.allThreads()[0]!;
      const before = key();
      t.executed += 7;
      assert.equal(key(), before);
    });
  });

  describe('the fingerprint of a thread about to abort', () => {
    // list.json's T1 is preempted inside list_push's section before the cpu compare (schedule A)
    // and before the commit (B): both resume at the abort handler, whose path rewrites rax, r8, r9
    // and the flags before reading them.
    const at = async (schedule: string, edit?: (m: Machine) => void): Promise<StateFingerprint> => {
      const { scenario, image } = await bundledScenario('list.json');
      const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
      try {
        m.begin();
        for (const item of parseSchedule(schedule)) m.step(item);
        edit?.(m);
        return stateFingerprint(m, readRseqTables(image));
      } finally {
        m.close();
      }
    };
    const A = 'c0:7 T1:preempt';
    const B = 'c0:10 T1:preempt';

    it('is one state wherever in the section the event came, with the exact states still told apart', async () => {
      const [a, b] = [await at(A), await at(B)];
      assert.equal(a.pending.length, 1);
      assert.equal(a.key, b.key);
      assert.ok(a.exact !== null && b.exact !== null && a.exact !== b.exact);
    });

    it('keeps a register the abort handler reads', async () => {
      const a = await at(A);
      const bumped = await at(A, (m) => {
        const t = m.allThreads()[0]!;
        const live = m.registersOf(t);
        t.process.emu.setReg('rdi', live.rdi + 8n); // list_push's heads argument, read after the retry
      });
      assert.notEqual(bumped.key, a.key);
    });

    it('leaves out a register the abort handler overwrites first', async () => {
      const a = await at(A);
      const bumped = await at(A, (m) => {
        const t = m.allThreads()[0]!;
        const live = m.registersOf(t);
        t.process.emu.setReg('r9', live.r9 + 1n);
      });
      assert.equal(bumped.key, a.key);
      assert.notEqual(bumped.exact, a.exact);
    });

    const rewritten = async () => {
      const scenario = scenarioFromJson({
        source: 'fixtures/rewritten_descriptor.s',
        cpus: 2,
        memory: { counters: { size: 16 } },
        threads: [{ entry: 'add_one', args: ['counters'], cpu: 0 }, { entry: 'retarget', cpu: 0 }, { entry: 'add_one', args: ['counters'], cpu: 1 }],
      }, fileURLToPath(new URL('./scenario.json', import.meta.url)));
      return { scenario, image: await loadProgram(scenario.source) };
    };

    /** For each cache entry of a K = 2 search hashed with a pending abort: whether it was marked exact-only. */
    const exactOnlyMarks = (scenario: Scenario, image: Image): boolean[] => {
      const tables = readRseqTables(image);
      const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
      const marked: boolean[] = [];
      class Spy extends StateCache {
        override add(state: StateFingerprint, left: number, span: number, exactOnly: boolean): void {
          if (state.pending.length) marked.push(exactOnly);
          super.add(state, left, span, exactOnly);
        }
      }
      try {
        m.begin();
        const space = { kinds: ALL_DEVIATIONS, switchPoints: sharedAccessPoints(image), splitPoints: splitPoints(image), flagsMatter: false };
        exhaustiveSearch(m, 2, space, { leaf: () => true }, { part: 0, of: 1 }, { states: new Spy(100_000, (x) => stateFingerprint(x, tables)), twins: new EventTwins(m, tables, Infinity) });
      } finally {
        m.close();
      }
      return marked;
    };

    it('lets a state whose pending abort went elsewhere stand only for itself', async () => {
      // A preempted add_one is hashed as headed for .Labort; below it, retarget runs first and the
      // abort goes to .Labort2, so its entry must not cover the same preemption at another address.
      const { scenario, image } = await rewritten();
      assert.ok(exactOnlyMarks(scenario, image).includes(true));
    });

    it('lets a state whose pending aborts all went as predicted stand for every such state', async () => {
      const { scenario, image } = await bundledScenario('list.json');
      const marks = exactOnlyMarks(scenario, image);
      assert.ok(marks.length > 0 && !marks.includes(true));
    });

    it('a search over a descriptor another thread rewrites reports what the search without the cache reports', async () => {
      const { scenario, image } = await rewritten();
      const { on, off } = bothWays(scenario, image, { preemptions: 2 });
      assert.ok(off.violations.some((v) => /resumed at .*Labort2/.test(v.message)), 'the rewritten abort_ip is reported');
      assert.deepEqual(reported(on), reported(off));
    });

    it('is not taken for an event outside the section', async () => {
      assert.deepEqual((await at('c0:3 T1:preempt')).pending, []);
    });
  });

  describe('the cache', () => {
    const none = (): StateFingerprint => state('unused');
    // Fingerprints carry SHA-1 digests: these stand for the states named.
    const digest = (name: string) => createHash('sha1').update(name).digest('base64');
    const state = (key: string, exact: string | null = null, slices = [0, 0]): StateFingerprint => ({ key: digest(key), kernel: { digest: key, pending: [], fills: [] }, contexts: [], memory: { digest: '', rsps: [] }, exact: exact && digest(exact), pending: [], slices: slices.join(','), counts: slices, maxSlice: Math.max(...slices) });
    it('covers a state explored with as many or more deviations left, not with fewer', () => {
      const c = new StateCache(10, none);
      c.add(state('s'), 1, 40, false);
      assert.deepEqual(c.covering(state('s'), 1), { span: 40, anyPending: true });
      assert.deepEqual(c.covering(state('s'), 0), { span: 40, anyPending: true });
      assert.equal(c.covering(state('s'), 2), null);
      c.add(state('s'), 2, 55, false);
      assert.equal(c.covering(state('s'), 2)?.span, 55);
      c.add(state('s'), 1, 10, false); // a smaller budget never replaces a larger one
      assert.equal(c.covering(state('s'), 2)?.span, 55);
    });

    it('lets an entry whose pending aborts ended otherwise cover only its exact state', () => {
      const c = new StateCache(10, none);
      c.add(state('s', 'exact-1'), 1, 40, true);
      assert.deepEqual(c.covering(state('s', 'exact-1'), 1), { span: 40, anyPending: false });
      assert.equal(c.covering(state('s', 'exact-2'), 1), null);
    });

    it('covers a state with other slice counts when no slice can end within the span of either', () => {
      const c = new StateCache(10, none, 100);
      c.add(state('s', null, [10, 0]), 1, 40, false);
      assert.equal(c.covering(state('s', null, [0, 59]), 1)?.span, 40);
      assert.equal(c.covering(state('s', null, [0, 60]), 1), null); // 60 + 40 reaches the tick
      c.add(state('t', null, [70, 0]), 1, 40, false);
      assert.equal(c.covering(state('t', null, [0, 0]), 1), null); // the entry's own run reached a tick
      assert.equal(c.covering(state('t', null, [70, 0]), 1)?.span, 40); // the same counts always match
    });

    it('covers a state whose counts differ only in threads that ran too few instructions below the entry to meet a tick from either', () => {
      const c = new StateCache(10, none, 1000);
      // Below the entry thread 0 ran at most 30 instructions of its slice, thread 1 met its tick (900 + 100).
      c.add(state('s', null, [10, 900]), 1, 2000, false, null, [30, 100]);
      assert.deepEqual(c.covering(state('s', null, [20, 900]), 1), { span: 2000, anyPending: true, ran: [30, 100] });
      assert.equal(c.covering(state('s', null, [969, 900]), 1)?.span, 2000);
      assert.equal(c.covering(state('s', null, [970, 900]), 1), null); // 970 + 30 reaches the tick
      assert.equal(c.covering(state('s', null, [10, 901]), 1), null); // thread 1's tick would come elsewhere
      c.add(state('t', null, [10, 900]), 1, 2000, false); // no runs known: the span decides
      assert.equal(c.covering(state('t', null, [20, 900]), 1), null);
    });

    it('covers the states a loop the entry\'s walk went round passes through, one period apart, up to the tick', () => {
      const c = new StateCache(10, none, 100);
      // Thread 1 (the runner) came back to key s every 9 instructions from count 20; thread 0 waits at 5.
      c.add(state('s', null, [5, 20]), 1, 500, false, { runner: 1, period: 9 });
      assert.deepEqual(c.covering(state('s', null, [5, 38]), 1, 1), { span: 482, anyPending: true, ahead: 18 });
      assert.equal(c.covering(state('s', null, [5, 92]), 1, 1)?.span, 428);
      assert.equal(c.covering(state('s', null, [5, 37]), 1, 1), null); // not a whole number of rounds
      assert.equal(c.covering(state('s', null, [5, 11]), 1, 1), null); // before the entry's state
      assert.equal(c.covering(state('s', null, [5, 101]), 1, 1), null); // past the tick
      assert.equal(c.covering(state('s', null, [6, 38]), 1, 1), null); // another thread's count differs
      assert.equal(c.covering(state('s', null, [5, 38]), 1, 0), null); // another thread about to run
      assert.equal(c.covering(state('s', null, [5, 38]), 2, 1), null); // more deviations left
    });

    it('keeps each phase of a loop apart: a walk that met the key at another count modulo the period covers its own', () => {
      const c = new StateCache(10, none, 100);
      c.add(state('s', null, [5, 20]), 1, 500, false, { runner: 1, period: 9 });
      assert.equal(c.covering(state('s', null, [5, 33]), 1, 1), null);
      c.add(state('s', null, [5, 24]), 1, 300, false, { runner: 1, period: 9 });
      assert.equal(c.covering(state('s', null, [5, 33]), 1, 1)?.span, 291);
      assert.equal(c.covering(state('s', null, [5, 38]), 1, 1)?.span, 482); // the first phase still
    });

    it('lets another phase\'s entry cover only visits with no more deviations left than it was explored with', () => {
      const c = new StateCache(10, none, 100);
      c.add(state('s', null, [5, 20]), 2, 500, false, { runner: 1, period: 9 });
      c.add(state('s', null, [5, 24]), 1, 300, false, { runner: 1, period: 9 });
      assert.equal(c.covering(state('s', null, [5, 33]), 1, 1)?.span, 291);
      assert.equal(c.covering(state('s', null, [5, 33]), 2, 1), null);
    });

    it('does not cover more than the entry\'s span: a loop left before the count was met proves nothing', () => {
      const c = new StateCache(10, none, 60);
      c.add(state('s', null, [0, 20]), 1, 30, false, { runner: 1, period: 9 });
      assert.equal(c.covering(state('s', null, [0, 47]), 1, 1)?.span, 3);
      assert.equal(c.covering(state('s', null, [0, 56]), 1, 1), null);
    });

    it('looks up no state a schedule\'s last deviation leaves, where a fingerprint costs more than the run it saves', async () => {
      // At K = 1 every state below the top level is one a deviation left with no deviation to
      // spare: nothing is remembered, and only events one instruction apart stand for others.
      const { scenario, image } = await bundledScenario('counter.json');
      const r = explore(image, scenario, { preemptions: 1, stateCache: true });
      assert.equal(r.stateCache?.entries, 0);
      assert.equal(r.schedules + r.stateCache!.hits, explore(image, scenario, { preemptions: 1, stateCache: false }).schedules);
    });

    it('stops remembering at its capacity and says so', () => {
      const c = new StateCache(2, none);
      c.add(state('a'), 1, 1, false);
      c.add(state('b'), 1, 1, false);
      c.add(state('c'), 1, 1, false);
      assert.equal(c.covering(state('c'), 1), null);
      assert.deepEqual(c.stats(), { hits: 0, rounds: 0, entries: 2, full: true });
    });

    it('a search capped at one entry still reports the same as one without a cache', async () => {
      const { scenario, image } = await counterScenario('counter_add.bug-commit-outside.s');
      const { on, off } = bothWays(scenario, image, { preemptions: 2, stateCacheEntries: 1 });
      assert.deepEqual(reported(on), reported(off));
      assert.equal(on.stateCache?.full, true);
    });
  });

  it('is not used with invariant functions, which may read any part of the machine', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const r = explore(image, scenario, { preemptions: 1, checks: [() => null] });
    assert.equal(r.stateCache, undefined);
  });
});

describe('state cache over loops', function () {
  this.timeout(300_000);
  /** What a cover check gets: the search's machine, and every state fingerprinted so far by key and counts. */
  interface CoverCheck {
    m: Machine;
    tables: RseqTables;
    space: DeviationSpace;
    stateAt: (key: string, counts: readonly number[]) => ReturnType<Machine['capture']> | undefined;
  }

  /**
   * A K = `bound` search with the cache, in which `check` sees every cover the cache makes (the
   * entry's table and the visit) and says whether it checked it; returns how many it checked.
   */
  function searchCheckingCovers(image: Image, scenario: Scenario, bound: number, check: (c: CoverCheck, table: StateTable, state: StateFingerprint, left: number, runner: number | null, hit: Covering) => boolean): number {
    const tables = readRseqTables(image);
    const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    const space = { kinds: ALL_DEVIATIONS, switchPoints: sharedAccessPoints(image), splitPoints: splitPoints(image), flagsMatter: false };
    const states = new Map<string, ReturnType<Machine['capture']>>();
    const at = (key: string, counts: readonly number[]) => `${key}|${counts.join(',')}`;
    const c: CoverCheck = { m, tables, space, stateAt: (key, counts) => states.get(at(key, counts)) };
    let checked = 0;
    class Checked extends StateCache {
      override covering(state: StateFingerprint, left: number, runner: number | null = null) {
        const hit = super.covering(state, left, runner);
        if (hit && check(c, this.table, state, left, runner, hit)) checked++;
        return hit;
      }
    }
    try {
      m.begin();
      const fingerprint = (x: Machine) => {
        const f = stateFingerprint(x, tables);
        states.set(at(f.key, f.counts), x.capture());
        return f;
      };
      const registerOnly = registerOnlyPoints(image);
      const caches = { states: new Checked(100_000, fingerprint, m.timeSlice), twins: new EventTwins(m, tables, m.timeSlice), walk: () => new CommutingWalk(m, m.timeSlice, registerOnly) };
      exhaustiveSearch(m, bound, space, { leaf: () => true, found: () => 0 }, { part: 0, of: 1 }, caches);
      return checked;
    } finally {
      m.close();
    }
  }

  it('lets a loop entry cover only states its own walk passes through, with its deviations left', async () => {
    const { scenario, image } = await brokenSpinlock();
    const checked = searchCheckingCovers(image, scenario, 3, ({ m, tables, stateAt }, _table, state, _left, runner, hit) => {
      if (hit.ahead === undefined) return false;
      const first = state.counts.map((c, i) => (i === runner ? c - hit.ahead! : c));
      const from = stateAt(state.key, first);
      assert.ok(from, `no state met with key ${state.key} and counts ${first.join(',')}`);
      const now = m.capture();
      m.restore(from);
      for (let i = 0; i < hit.ahead; i++) m.step({ kind: 'run', cpu: m.defaultCpu()!, count: 1 });
      const reached = stateFingerprint(m, tables);
      m.restore(now);
      assert.equal(`${reached.key}|${reached.counts.join(',')}`, `${state.key}|${state.counts.join(',')}`, `${hit.ahead} default steps from the entry's state`);
      return true;
    });
    assert.ok(checked > 0, 'no loop entry covered a visit');
  });

  /**
   * Two threads on one CPU add 1 to a shared counter twelve times each with a plain load, add and
   * store, and a 25-instruction slice: where each tick comes decides which updates are lost.
   */
  async function tickRace(): Promise<{ scenario: Scenario; image: Image }> {
    const source = '\t.text\n\t.globl add_n\nadd_n:\n1:\tmovq (%rdi), %rax\n\taddq $1, %rax\n\tmovq %rax, (%rdi)\n\tdecq %rsi\n\tjnz 1b\n\tret\n';
    const scenario = scenarioFromJson({
      source: 'tick-race.s',
      cpus: 1,
      timeSlice: 25,
      memory: { counter: { size: 8 } },
      threads: [{ entry: 'add_n', args: ['counter', 12], cpu: 0 }, { entry: 'add_n', args: ['counter', 12], cpu: 0 }],
      invariants: [{ region: 'counter', equals64: [24] }],
    }, fileURLToPath(new URL('../../scenario.json', import.meta.url)));
    return { scenario, image: await assembleSource(source, 'tick-race.s') };
  }

  it('lets an entry cover a visit whose counts differ only in threads that met no tick below it, and both reach the same final states', async () => {
    const { scenario, image } = await tickRace();
    /** The final states below the machine's state with `left` deviations, searched without a cache. */
    const leavesBelow = ({ m, tables, space }: CoverCheck, left: number): string[] => {
      const here = m.capture();
      const keys = new Set<string>();
      exhaustiveSearch(m, left, space, { leaf: () => (keys.add(stateFingerprint(m, tables).key), true) });
      m.restore(here);
      return [...keys].sort();
    };
    const checked = searchCheckingCovers(image, scenario, 2, (c, table, state, left, _runner, hit) => {
      const entry = hit.ahead === undefined ? table.get(Buffer.from(state.key, 'base64')) : null;
      const counts = entry?.runs?.map(([n]) => n);
      // Only covers that the counts' runs allowed: other counts, and a tick within the span.
      if (!counts || counts.join(',') === state.slices || Math.max(entry!.maxSlice, state.maxSlice) + entry!.span < c.m.timeSlice) return false;
      const from = c.stateAt(state.key, counts);
      assert.ok(from, `no state met with key ${state.key} and counts ${counts.join(',')}`);
      const now = c.m.capture();
      const visit = leavesBelow(c, left);
      c.m.restore(from);
      const own = leavesBelow(c, left);
      c.m.restore(now);
      assert.deepEqual(visit, own, `counts ${state.slices} covered by ${counts.join(',')}`);
      return true;
    });
    assert.ok(checked > 0, 'no entry covered a visit by its threads\' runs');
  });

  it('reports over ticks that decide which updates are lost what the search without the cache reports (K = 2)', async () => {
    const { scenario, image } = await tickRace();
    const { on, off } = bothWays(scenario, image, { preemptions: 2 });
    assert.equal(off.verdict, 'fail');
    assert.ok(on.schedules < off.schedules, `${on.schedules} schedules with the cache, ${off.schedules} without`);
    assert.deepEqual(reported(on), reported(off));
  });

  it('reports over a spin loop what the search without the cache reports (K = 3)', async () => {
    const { scenario, image } = await brokenSpinlock();
    const { on, off } = bothWays(scenario, image, { preemptions: 3 });
    assert.equal(off.verdict, 'fail');
    assert.deepEqual(reported(on), reported(off));
  });
});

describe('state cache on worker threads', function () {
  this.timeout(300_000);
  it('two workers sharing one table report the verdict and violations one thread reports', async () => {
    const { scenario, image } = await counterScenario('counter_add.bug-late-rseq-cs.s');
    const one = explore(image, scenario, { keepViolations: 1_000_000, stateCache: true });
    const two = await exploreParallel(scenario, { workers: 2, pilotSeconds: 0, awaitWorkers: true, keepViolations: 1_000_000, stateCache: true });
    assert.equal(two.workers, 2);
    assert.deepEqual(reported(two), reported(one));
    assert.equal(typeof two.stateCache?.hits, 'number');
  });

  it('lets a share skip the states another share explored into the same table', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const options = { preemptions: 2, stateCache: true };
    const table = createStateTableMemory(100_000);
    exploreShare(image, scenario, options, { part: 0, of: 2 }, { table });
    const after = exploreShare(image, scenario, options, { part: 1, of: 2 }, { table });
    const alone = exploreShare(image, scenario, options, { part: 1, of: 2 });
    assert.ok(after.schedules < alone.schedules, `${after.schedules} schedules after the other share, ${alone.schedules} alone`);
  });

  // A worker that joins late starts with the table the calling thread filled so far, with the
  // states of a branch that thread is still inside missing: it must not lose that branch's violations.
  it('a worker that joins a K = 3 search inside a branch still finds every violation', async () => {
    // K = 3: a top-level branch holds whole subtrees, which its states stand for once explored.
    const { scenario, image } = await counterScenario('counter_add.bug-late-rseq-cs.s', {
      threads: [{ entry: 'counter_add', args: ['counters', 1], cpu: 0 }, { entry: 'counter_add', args: ['counters', 10], cpu: 0 }],
    });
    const options = { preemptions: 3, keepViolations: 1_000_000, stateCache: true };
    // A clock read about once per schedule, a hundred reads a second: the worker is called some
    // hundred schedules into each round of the search (explorer.ts SearchRounds).
    let reads = 0;
    const r = await exploreParallel(scenario, { ...options, workers: 2, pilotSeconds: 1, awaitWorkers: true, clock: () => reads++ / 100 }, image);
    assert.equal(r.workers, 2);
    assert.deepEqual(reported(r), reported(explore(image, scenario, options)));
  });
});

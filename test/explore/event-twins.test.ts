// Event twins (src/explore/event-twins.ts): where the search has one deviation left, an event
// that leaves a state an earlier point of the same pure stretch already left runs no second schedule.
import { strict as assert } from 'node:assert';
import { readRseqTables } from '../../src/abi/tables.js';
import type { Image } from '../../src/asm/image.js';
import { EventTwins, returnAfter, type TwinState } from '../../src/explore/event-twins.js';
import { ALL_DEVIATIONS, sharedAccessPoints, splitPoints } from '../../src/explore/deviations.js';
import { exhaustiveSearch } from '../../src/explore/exhaustive.js';
import { StateCache } from '../../src/explore/state-cache.js';
import { stateFingerprint, type PureStepFrom, type StateFingerprint } from '../../src/explore/state-hash.js';
import type { Machine } from '../../src/kernel/machine.js';
import { parseSchedule, type ScheduleItem } from '../../src/kernel/schedule.js';
import { PureStep } from '../../src/explore/pure-step.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario } from './fixtures.js';

// list.json's T1, 7 instructions in, is at list_push's cpu compare, the section's first
// instruction; 3 instructions later (compare, branch, compare: flags only) it is at the branch
// before the commit. The abort handler's path rewrites rax, r8, r9 and the flags before reading.
const AT_START = 'c0:7';
const PREEMPT_T1: ScheduleItem = { kind: 'event', tid: 1, event: { kind: 'preempt' } };

async function withScenario<T>(name: string, schedule: string, body: (m: Machine, twins: EventTwins) => T): Promise<T> {
  const { scenario, image } = await bundledScenario(name);
  const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
  try {
    m.begin();
    for (const item of parseSchedule(schedule)) m.step(item);
    return body(m, new EventTwins(m, readRseqTables(image), Infinity));
  } finally {
    m.close();
  }
}

const withList = <T>(body: (m: Machine, twins: EventTwins) => T): Promise<T> => withScenario('list.json', AT_START, body);

/** What a preemption of T1 here leaves, the machine put back as it was. */
function stateHere(m: Machine, twins: EventTwins): TwinState | null {
  twins.looping(m.registersOf(m.allThreads()[0]!).rip, 1);
  const here = m.capture();
  m.step(PREEMPT_T1);
  const state = twins.keyAfter(PREEMPT_T1, false, here);
  m.restore(here);
  return state;
}

/** One default step of T1 on CPU 0, watched by `twins`. */
function step(m: Machine, twins: EventTwins): void {
  const pure = new PureStep(m);
  pure.before(m.runningOn(0)!, 0, m.capture());
  m.step({ kind: 'run', cpu: 0, count: 1 });
  twins.stepped(pure.after());
}

describe('event twins', () => {
  describe('of a switch to another CPU in a spin loop', () => {
    // spinlock.json: T1 preempted holding CPU 0's lock, T2 spinning on it there, T3 on CPU 1 not yet run.
    const SWITCH: ScheduleItem = { kind: 'run', cpu: 1, count: 0 };
    /** At each point where T2 is about to load the lock (a switch point), over `points` steps: the switch's key, the machine put back. */
    async function switchesAlongSpin(points: number, body: (twins: EventTwins, state: TwinState | null, m: Machine) => void): Promise<number> {
      const { image } = await bundledScenario('spinlock.json');
      const lockLoad = [...sharedAccessPoints(image)].find((a) => /cmpq\s+\$0, \(%rdi,%r8,8\)/.test(image.lines.find((l) => l.kind === 'instruction' && l.address === a)?.text ?? ''));
      assert.ok(lockLoad !== undefined, 'the spin loop loads the lock');
      return withScenario('spinlock.json', 'c0:9 T1:preempt', (m, twins) => {
        let met = 0;
        for (let i = 0; i < points; i++) {
          const rip = m.registersOf(m.runningOn(0)!).rip;
          const looping = twins.looping(rip, 2);
          if (rip === lockLoad) {
            met++;
            const here = m.capture();
            m.step(SWITCH);
            const state = twins.keyAfter(SWITCH, looping, here);
            body(twins, state, m);
            m.restore(here);
          }
          const pure = new PureStep(m);
          pure.before(m.runningOn(0)!, 0, m.capture());
          m.step({ kind: 'run', cpu: 0, count: 1 });
          twins.stepped(pure.after());
        }
        return met;
      });
    }

    it('have a key only once the spinner came round its loop, and the same one each round after', async () => {
      const keys: (string | null)[] = [];
      const met = await switchesAlongSpin(40, (_twins, state) => keys.push(state?.key ?? null));
      assert.ok(met >= 3, `the lock load met ${met} times`);
      assert.equal(keys[0], null);
      assert.ok(keys[1] !== null);
      assert.ok(keys.slice(2).every((k) => k === keys[1]));
    });

    it('stand for the same switch a round later, the spinner that much further in its slice', async () => {
      const covers: ({ span: number; ahead: number } | null)[] = [];
      await switchesAlongSpin(40, (twins, state) => {
        if (!state) return;
        const cover = twins.covering(state);
        covers.push(cover && { span: cover.span, ahead: cover.ahead });
        if (!cover) twins.remember(state, 50);
      });
      assert.equal(covers[0], null);
      assert.deepEqual(covers.slice(1, 3), [{ span: 50, ahead: 9 }, { span: 50, ahead: 18 }]);
    });
  });

  it('give an event the same key wherever in a section it comes, when only dead registers changed between', async () => {
    await withList((m, twins) => {
      const first = stateHere(m, twins);
      for (let i = 0; i < 3; i++) step(m, twins);
      assert.ok(first !== null);
      assert.equal(stateHere(m, twins)?.key, first.key);
    });
  });

  it('give a different key when a register the abort handler reads changed', async () => {
    await withList((m, twins) => {
      const first = stateHere(m, twins);
      const t = m.allThreads()[0]!;
      t.process.emu.setReg('rdi', m.registersOf(t).rdi + 8n); // list_push's heads argument, read after the retry
      assert.notEqual(stateHere(m, twins)?.key, first?.key);
    });
  });

  it('have no key for an event of a thread other than the one whose stretch it is', async () => {
    await withList((m, twins) => {
      twins.looping(m.registersOf(m.allThreads()[0]!).rip, 3);
      const here = m.capture();
      m.step(PREEMPT_T1);
      assert.equal(twins.keyAfter(PREEMPT_T1, true, here), null);
    });
  });

  it('have no key for an event outside a section, which does not abort', async () => {
    await withScenario('list.json', 'c0:1', (m, twins) => assert.equal(stateHere(m, twins), null));
  });

  /** A state standing for any event at this point (the purity tests need no real one). */
  const anyState = (m: Machine): TwinState => {
    const t = m.runningOn(0)!;
    return { key: 'k', context: m.contextOf(t), slice: t.sliceUsed, pending: null, thread: t };
  };

  it('cover a later point after steps that wrote nothing', async () => {
    await withList((m, twins) => {
      twins.remember(anyState(m), 40);
      step(m, twins);
      assert.equal(twins.covering(anyState(m))?.span, 40);
    });
  });

  it('forget what they saw after a step that wrote shared memory', async () => {
    // 14 instructions in, buffer_push's next one stores the item into its slot (the try-store).
    await withScenario('buffer.json', 'c0:14', (m, twins) => {
      twins.remember(anyState(m), 40);
      step(m, twins);
      assert.equal(twins.covering(anyState(m)), null);
    });
  });

  it('forget what they saw after a step that stored a new value in the thread\'s own TLS', async () => {
    // 9 instructions in, buffer_push's next one points rseq_cs at its descriptor (0 until then).
    await withScenario('buffer.json', 'c0:9', (m, twins) => {
      twins.remember(anyState(m), 40);
      step(m, twins);
      assert.equal(twins.covering(anyState(m)), null);
    });
  });

  it('give an event in a spin loop the state of the same event an iteration earlier', async () => {
    // T1 takes CPU 0's lock (its 9th instruction stores 1) and is preempted; T2 then spins on CPU 0,
    // storing the same rseq_cs pointer every iteration.
    await withScenario('spinlock.json', 'c0:9 T1:preempt c0:20', (m, twins) => {
      const preemptT2: ScheduleItem = { kind: 'event', tid: 2, event: { kind: 'preempt' } };
      const here = (): TwinState => {
        const rip = m.registersOf(m.runningOn(0)!).rip;
        const looping = twins.looping(rip, 2);
        const snapshot = m.capture();
        m.step(preemptT2);
        const state = twins.keyAfter(preemptT2, looping, snapshot);
        m.restore(snapshot);
        return state!;
      };
      let covered = 0;
      for (let i = 0; i < 30; i++) {
        const state = here();
        if (state && twins.covering(state) !== null) covered++;
        else if (state) twins.remember(state, 100);
        step(m, twins);
      }
      // Each point of the loop's first pass is remembered (from its second pass on, a loop is
      // seen), and every point after that is covered.
      assert.ok(covered >= 30 - 2 * 9, `${covered} of 30 covered`);
    });
  });

  it('say how much further into its slice a signal finds the thread than its twin an iteration earlier', async () => {
    await withScenario('spinlock.json', 'c0:9 T1:preempt c0:20', (m, twins) => {
      const signalT2 = parseSchedule('T2:signal:SIGUSR1')[0]!;
      const aheads: number[] = [];
      for (let i = 0; i < 30; i++) {
        const looping = twins.looping(m.registersOf(m.runningOn(0)!).rip, 2);
        const snapshot = m.capture();
        m.step(signalT2);
        const state = twins.keyAfter(signalT2, looping, snapshot);
        m.restore(snapshot);
        const cover = state && twins.covering(state);
        if (cover) aheads.push(cover.ahead);
        else if (state) twins.remember(state, 100);
        step(m, twins);
      }
      // The spin loop is nine instructions: a twin stands one or more whole iterations back.
      assert.ok(aheads.length > 0 && aheads.every((a) => a > 0 && a % 9 === 0), aheads.join(','));
    });
  });

  it('pass on whether the aborts watched at the twin\'s leaf ended as predicted', async () => {
    await withList((m, twins) => {
      twins.remember(anyState(m), 40, false);
      assert.deepEqual(twins.covering(anyState(m)), { span: 40, resolved: false, ahead: 0 });
    });
  });

  it('give two signals of different numbers different keys', async () => {
    // T2 spins on CPU 0 (see above), where events that do not abort have keys too.
    await withScenario('spinlock.json', 'c0:9 T1:preempt c0:20', (m, twins) => {
      twins.looping(m.registersOf(m.runningOn(0)!).rip, 2);
      const keyOf = (signal: number): string | undefined => {
        const item: ScheduleItem = { kind: 'event', tid: 2, event: { kind: 'signal', signal } };
        const here = m.capture();
        m.step(item);
        const key = twins.keyAfter(item, true, here)?.key;
        m.restore(here);
        return key;
      };
      const [usr1, usr2] = [keyOf(10), keyOf(12)];
      assert.ok(usr1 !== undefined && usr2 !== undefined);
      assert.notEqual(usr1, usr2);
    });
  });

  it('do not cover a point whose budget cannot fit the twin\'s run', async () => {
    await withList((m, twins) => {
      const state = stateHere(m, twins)!;
      twins.remember(state, m.maxInstructions);
      assert.equal(twins.covering(state), null);
    });
  });

  it('do not cover a point whose slice count differs when a tick could come within the run', async () => {
    await withList((m) => {
      const twins = new EventTwins(m, readRseqTables(m.image), 100);
      const state = stateHere(m, twins)!;
      twins.remember({ ...state, slice: 50 }, 60);
      assert.equal(twins.covering({ ...state, slice: 0 }), null);
      twins.reset();
      twins.remember({ ...state, slice: 5 }, 10);
      assert.equal(twins.covering({ ...state, slice: 0 })?.span, 10);
    });
  });

  it('cover a later point with a tick in reach when the twin\'s run came back to the stretch, by as much less as the point lies further on', async () => {
    await withList((m) => {
      const twins = new EventTwins(m, readRseqTables(m.image), 100);
      const state = stateHere(m, twins)!;
      // The twin's thread came back 5 of its instructions after its event.
      twins.remember({ ...state, slice: 50 }, 60, true, 5);
      assert.equal(twins.covering({ ...state, slice: 59 })?.span, 51);
      // Coming back would take this one's count to the tick; an earlier point is not further along.
      assert.equal(twins.covering({ ...state, slice: 95 }), null);
      assert.equal(twins.covering({ ...state, slice: 40 }), null);
    });
  });

  describe('coming back to the stretch', () => {
    // T2 spins on CPU 0 (see above). Its walk is fingerprinted point by point, as the search does.
    const spinning = <T>(body: (m: Machine, earlier: Map<string, StateFingerprint>, passed: Set<bigint>) => T): Promise<T> =>
      withScenario('spinlock.json', 'c0:9 T1:preempt c0:20', (m) => {
        const tables = readRseqTables(m.image);
        const earlier = new Map<string, StateFingerprint>();
        const passed = new Set<bigint>();
        for (let i = 0; i < 12; i++) {
          const f = stateFingerprint(m, tables);
          earlier.set(f.key, f);
          passed.add(m.registersOf(m.runningOn(0)!).rip);
          m.step({ kind: 'run', cpu: 0, count: 1 });
        }
        return body(m, earlier, passed);
      });
    const fingerprint = (m: Machine, from: PureStepFrom | null) => stateFingerprint(m, readRseqTables(m.image), from);

    it('sees a signal whose handler returns bring the spinner back to a state of its loop, a few instructions later', async () => {
      await spinning((m, earlier, passed) => {
        const t2 = m.thread(2)!;
        m.step({ kind: 'event', tid: 2, event: { kind: 'signal', signal: 10 } });
        const ahead = returnAfter(m, fingerprint, t2, (key) => earlier.get(key), (rip) => passed.has(rip));
        assert.ok(ahead !== null && ahead > 0 && ahead < 30, `came back ${ahead} instructions on`);
      });
    });

    it('fingerprints a state one pure step on from the one before as it would afresh', async () => {
      await spinning((m, earlier, passed) => {
        const t2 = m.thread(2)!;
        m.step({ kind: 'event', tid: 2, event: { kind: 'signal', signal: 10 } });
        let reused = 0;
        const checked = (x: Machine, from: PureStepFrom | null): StateFingerprint => {
          const f = fingerprint(x, from);
          if (from) {
            reused++;
            assert.equal(f.key, fingerprint(x, null).key);
          }
          return f;
        };
        assert.notEqual(returnAfter(m, checked, t2, (key) => earlier.get(key), (rip) => passed.has(rip)), null);
        assert.ok(reused > 0, 'no fingerprint was made one pure step after another');
      });
    });

    it('sees a preempted spinner not come back: another thread runs first', async () => {
      await spinning((m, earlier, passed) => {
        const t2 = m.thread(2)!;
        m.step({ kind: 'event', tid: 2, event: { kind: 'preempt' } });
        assert.equal(returnAfter(m, fingerprint, t2, (key) => earlier.get(key), (rip) => passed.has(rip)), null);
      });
    });
  });

  it('do not cover a state whose context differs outside the registers', async () => {
    await withList((m, twins) => {
      const state = stateHere(m, twins)!;
      twins.remember(state, 40);
      const other = Uint8Array.from(state.context);
      other[other.length - 1] ^= 1;
      assert.equal(twins.covering({ ...state, context: other }), null);
      assert.equal(twins.covering({ ...state, context: Uint8Array.from(state.context) })?.span, 40);
    });
  });

  describe('in a search', () => {
    /** Every leaf's final shared memory and return values, with the number of leaves. */
    const leaves = (scenario: Scenario, image: Image, twins: boolean): { count: number; outcomes: Set<string> } => {
      const tables = readRseqTables(image);
      const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
      const outcomes = new Set<string>();
      let count = 0;
      try {
        m.begin();
        const space = { kinds: ALL_DEVIATIONS, switchPoints: sharedAccessPoints(image), splitPoints: splitPoints(image), flagsMatter: false };
        const states = new StateCache(100_000, (x) => stateFingerprint(x, tables));
        const leaf = () => {
          count++;
          const memory = [...m.regions].map(([name, r]) => `${name}=${Buffer.from(m.processes[0]!.emu.read(r.address, r.size)).toString("hex")}`);
          outcomes.add([...memory, ...m.allThreads().map((t) => t.program?.returns.join(','))].join(' '));
          return true;
        };
        exhaustiveSearch(m, 2, space, { leaf }, { part: 0, of: 1 }, { states, ...(twins ? { twins: new EventTwins(m, tables, m.timeSlice) } : {}) });
      } finally {
        m.close();
      }
      return { count, outcomes };
    };

    it('runs fewer schedules over spinlock.json at K = 2 and reaches the same final states (a 100-instruction slice, shorter spins)', async () => {
      const { scenario, image } = await bundledScenario('spinlock.json');
      const short = { ...scenario, timeSlice: 100 };
      const [on, off] = [leaves(short, image, true), leaves(short, image, false)];
      assert.ok(on.count < off.count, `${on.count} schedules with twins, ${off.count} without`);
      assert.deepEqual([...on.outcomes].sort(), [...off.outcomes].sort());
    });

    for (const name of ['list.json', 'counter.json', 'buffer.json']) {
      it(`runs fewer schedules over ${name} at K = 2 and reaches the same final states`, async () => {
        const { scenario, image } = await bundledScenario(name);
        const [on, off] = [leaves(scenario, image, true), leaves(scenario, image, false)];
        assert.ok(on.count < off.count, `${on.count} schedules with twins, ${off.count} without`);
        assert.deepEqual([...on.outcomes].sort(), [...off.outcomes].sort());
      });
    }
  });
});

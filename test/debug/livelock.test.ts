// The livelock rule: the last P stop states equal the P before them, an abort inside, no commit.
import { strict as assert } from 'node:assert';
import { LivelockDetector, type ObservedStop } from '../../src/debug/livelock.js';

const stop = (state: string, aborted = false, committed = false): ObservedStop => ({ state, aborted, committed });
/** Feeds states; `A` marks a stop after an abort, `C` one after a commit. Returns the first cycle found and when. */
function feed(seq: string): { at: number; cycle: ReturnType<LivelockDetector['observe']> } | null {
  const d = new LivelockDetector();
  const items = seq.split(' ');
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const c = d.observe(stop(it.replace(/[AC]$/, ''), it.endsWith('A'), it.endsWith('C')));
    if (c) return { at: i, cycle: c };
  }
  return null;
}

describe('livelock detection', () => {
  it('finds a cycle once it has repeated twice, with its length and the abort that closes it', () => {
    const r = feed('e a b c rA a b c rA a b c rA');
    assert.ok(r);
    assert.equal(r.cycle!.length, 4);
    assert.equal(r.at, 8, 'the second turn ends at index 8');
    assert.equal(r.cycle!.start, 5);
    assert.equal(r.cycle!.abortAt, 8);
  });
  it('finds no livelock in a repeating cycle without an abort', () => {
    assert.equal(feed('e a b c a b c a b c a b c'), null);
  });
  it('finds no livelock when a commit happens in every turn', () => {
    assert.equal(feed('e a bC cA a bC cA a bC cA a bC cA'), null);
  });
  it('finds no livelock while the states differ (a retry counter in a register)', () => {
    assert.equal(feed('e a1 b1 rA a2 b2 rA a3 b3 rA a4 b4 done'), null);
  });
  it('counts only the stops after the last commit', () => {
    const r = feed('a bA a bC a bA a bA a');
    assert.ok(r);
    assert.equal(r.cycle!.start, 6);
  });
});

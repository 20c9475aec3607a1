// `explore --cross-check`: a search made with the state cache against the same search made
// without it. Two searches agree when they give the same verdict and the same distinct violations
// (kind and message), whatever their schedule counts and replay strings.
import { strict as assert } from 'node:assert';
import { crossCheck, type CrossCheck } from '../../src/explore/cross-check.js';
import type { ExploreResult } from '../../src/explore/explorer.js';
import type { Violation } from '../../src/explore/judge.js';
import { crossCheckText } from '../../src/report/cross-check-report.js';
import { exploreStatus } from '../../src/cli/explore-command.js';

const violation = (message: string, schedule = 'c0:3 T1:preempt c0:9'): Violation => ({ kind: 'not-serializable', schedule, message });

function result(violations: Violation[], extra: Partial<ExploreResult> = {}): ExploreResult {
  return {
    verdict: violations.length ? 'fail' : 'pass', mode: 'exhaustive', schedules: 100, seconds: 0.5, complete: true,
    violations, units: violations.map(() => 0), violationCount: violations.length, profile: 'linux', workers: 1, heat: [], bound: 2,
    ...extra,
  };
}

describe('cross-check of the state cache', () => {
  it('agrees when both searches find the same distinct violations, though with other schedules and counts', () => {
    const on = result([violation('counters[0] = 10', 'c0:1'), violation('counters[0] = 10', 'c0:2')], { schedules: 40 });
    const off = result([violation('counters[0] = 10', 'c0:7')], { schedules: 400 });
    const c = crossCheck(on, off);
    assert.equal(c.outcome, 'agree');
    assert.equal(c.withCache.distinct, 1);
    assert.deepEqual([c.withCache.schedules, c.without.schedules], [40, 400]);
  });

  it('differs when a violation is found only one way, and names it on its side', () => {
    const c = crossCheck(result([violation('a')]), result([violation('a'), violation('b')]));
    assert.equal(c.outcome, 'differ');
    assert.deepEqual(c.onlyWithCache, []);
    assert.deepEqual(c.onlyWithout, ['not-serializable: b']);
  });

  it('differs when one search passes and the other fails', () => {
    const c = crossCheck(result([]), result([violation('a')]));
    assert.equal(c.outcome, 'differ');
    assert.deepEqual([c.withCache.verdict, c.without.verdict], ['pass', 'fail']);
  });

  it('compares nothing when a search stopped before the end of its space', () => {
    const c = crossCheck(result([]), result([], { complete: false }));
    assert.equal(c.outcome, 'incomplete');
    assert.match(c.reason!, /without the cache stopped before the end of its space/);
  });

  it('compares nothing when a search found more violations than it kept', () => {
    const c = crossCheck(result([violation('a')], { violationCount: 5 }), result([violation('a')]));
    assert.equal(c.outcome, 'incomplete');
    assert.match(c.reason!, /with the cache found 5 violations, more than the 1 a cross-check keeps/);
  });

  it('reports a difference as a bug of the tool, with what each side alone found', () => {
    const c: CrossCheck = crossCheck(result([violation('a'), violation('b')]), result([violation('a'), violation('c')]));
    const text = crossCheckText(c);
    assert.match(text, /^cross-check: the state cache changed the result, a bug of rseq-emu/);
    assert.match(text, /\n {2}only with the cache: not-serializable: b\n/);
    assert.match(text, /\n {2}only without the cache: not-serializable: c\n/);
  });

  it('ends explore with status 3 when the searches differ, and with the verdict otherwise', () => {
    const differ = crossCheck(result([]), result([violation('a')]));
    const agree = crossCheck(result([violation('a')]), result([violation('a')]));
    assert.equal(exploreStatus('pass', differ), 3);
    assert.equal(exploreStatus('fail', agree), 1);
    assert.equal(exploreStatus('pass', null), 0);
  });
});

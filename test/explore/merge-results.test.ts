// Merging shard records: only the N shards of one search, each once, merge; the merge lists the
// violations in the order of their units and adds up the counts.
import { strict as assert } from 'node:assert';
import { mergeShardRecords, readShardRecord, SHARD_FORMAT } from '../../src/explore/merge-results.js';

/** A shard record as `explore --shard I/N --json` writes it, with `over` replacing fields. */
function record(shard: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    verdict: 'pass', schedules: 10, seconds: 1.5, violations: [], violationCount: 0, complete: true, mode: 'exhaustive', profile: 'linux', workers: 1, preemptions: 2,
    format: SHARD_FORMAT, shard, scenario: { file: 's.json', hash: 'ab'.repeat(32) },
    search: { mode: 'exhaustive', preemptions: 2, kinds: 'preempt,migrate', maxSchedules: 1000, stopAtFirst: false, keepViolations: 1000, profile: 'linux' },
    ...over,
  };
}

const violation = (unit: number, message: string) => ({ kind: 'not-serializable', schedule: `c0:${unit}`, message, unit });

const read = (json: Record<string, unknown>, file: string) => ({ file, record: readShardRecord(JSON.stringify(json), file) });

const oneLine = (pattern: RegExp) => (e: Error) => pattern.test(e.message) && !e.message.includes('\n');

describe('merging shard records', () => {
  it('lists the violations of all shards in the order of their units, whatever the order of the files', () => {
    const m = mergeShardRecords([
      read(record('2/2', { violations: [violation(1, 'b'), violation(4, 'd')], violationCount: 2, verdict: 'fail' }), 'b.json'),
      read(record('1/2', { violations: [violation(0, 'a'), violation(3, 'c')], violationCount: 2, verdict: 'fail' }), 'a.json'),
    ]);
    assert.deepEqual(m.result.violations.map((v) => v.message), ['a', 'b', 'c', 'd']);
    assert.deepEqual(m.result.units, [0, 1, 3, 4]);
    assert.equal(m.result.verdict, 'fail');
    assert.equal(m.result.violationCount, 4);
  });
  it('adds up schedules and threads, takes the longest shard for the time, and is complete only when every shard is', () => {
    const m = mergeShardRecords([read(record('1/2', { seconds: 2, workers: 2 }), 'a.json'), read(record('2/2', { schedules: 5, complete: false }), 'b.json')]);
    assert.equal(m.result.schedules, 15);
    assert.equal(m.result.seconds, 2);
    assert.equal(m.result.workers, 3);
    assert.equal(m.result.complete, false);
    assert.equal(m.result.verdict, 'pass');
    assert.equal(m.shards, 2);
  });
  it('keeps only the first violation in unit order when the search stopped at the first', () => {
    const stop = { search: { ...(record('1/2').search as object), stopAtFirst: true } };
    const m = mergeShardRecords([
      read(record('1/2', { ...stop, violations: [violation(5, 'late')], violationCount: 1 }), 'a.json'),
      read(record('2/2', { ...stop, violations: [violation(2, 'early')], violationCount: 1 }), 'b.json'),
    ]);
    assert.deepEqual(m.result.violations.map((v) => v.message), ['early']);
  });
  it('refuses a missing shard and names it', () => {
    assert.throws(() => mergeShardRecords([read(record('1/3'), 'a.json'), read(record('3/3'), 'c.json')]), oneLine(/^shard 2 of 3 missing/));
  });
  it('refuses a shard given twice and names both files', () => {
    assert.throws(() => mergeShardRecords([read(record('1/2'), 'a.json'), read(record('1/2'), 'b.json')]), oneLine(/shard 1\/2 given twice: a\.json and b\.json/));
  });
  it('refuses shards of another scenario', () => {
    const other = record('2/2', { scenario: { file: 't.json', hash: 'cd'.repeat(32) } });
    assert.throws(() => mergeShardRecords([read(record('1/2'), 'a.json'), read(other, 'b.json')]), oneLine(/^b\.json: a shard of another scenario \(t\.json, hash cdcdcdcdcdcd\) than a\.json/));
  });
  it('refuses shards searched with other options and names the option', () => {
    const other = record('2/2', { search: { ...(record('1/2').search as object), preemptions: 3 } });
    assert.throws(() => mergeShardRecords([read(record('1/2'), 'a.json'), read(other, 'b.json')]), oneLine(/^b\.json: searched with preemptions 3, but a\.json with 2/));
  });
  it('refuses shards of splits into different numbers of shards', () => {
    assert.throws(() => mergeShardRecords([read(record('1/2'), 'a.json'), read(record('2/3'), 'b.json')]), oneLine(/^b\.json: shard 2\/3, but a\.json is shard 1\/2/));
  });

  describe('reading a record', () => {
    for (const [what, text, pattern] of [
      ['text that is not JSON', '{"format":', /^r\.json: not JSON/],
      ['an explore result without --shard', JSON.stringify({ verdict: 'pass', schedules: 3 }), /^r\.json: no "format" key \(not a result of 'rseq-emu explore --shard I\/N --json'\?\)/],
      ['a record of another format', JSON.stringify(record('1/1', { format: 'other/9' })), /format "other\/9"/],
      ['a shard out of range', JSON.stringify(record('3/2')), /^r\.json: shard 3\/2: I must be 1 to 2/],
      ['a violation without its unit', JSON.stringify(record('1/1', { violations: [{ kind: 'signal', schedule: '', message: 'm' }], violationCount: 1 })), /violations\[0\] must hold/],
      ['a negative schedule count', JSON.stringify(record('1/1', { schedules: -1 })), /"schedules" must be a whole number/],
      ['more violations than its count', JSON.stringify(record('1/1', { violations: [violation(0, 'a')], violationCount: 0 })), /1 violations listed but "violationCount" is 0/],
    ] as const) {
      it(`refuses ${what} with one line naming the file`, () => {
        assert.throws(() => readShardRecord(text, 'r.json'), oneLine(pattern));
      });
    }
  });
});

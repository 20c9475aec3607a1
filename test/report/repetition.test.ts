// A report must not grow with the instruction budget: repeated lines collapse to first, count, last.
import { strict as assert } from 'node:assert';
import { summarizeRepeats } from '../../src/report/repetition.js';
import { syscallsJson } from '../../src/report/run-report.js';
import type { SyscallRecord } from '../../src/kernel/outcome.js';

const call = (tid: number, nr: number, name: string, ret: bigint): SyscallRecord =>
  ({ tid, nr, name, args: [0n, 0n, 0n, 0n, 0n, 0n], ret, ip: 0x400005n, implemented: true, insideCriticalSection: false });

describe('summarizeRepeats', () => {
  it('keeps lines that do not repeat as they are', () => {
    assert.deepEqual(summarizeRepeats(['a', 'b', 'a', 'b', 'c']), ['a', 'b', 'a', 'b', 'c']);
  });
  it('collapses a line repeated many times to the first, a count and the last', () => {
    const lines = ['start', ...Array(1000).fill('yield'), 'end'];
    assert.deepEqual(summarizeRepeats(lines), ['start', 'yield', '  … the line above repeated 998 more times …', 'yield', 'end']);
  });
  it('collapses a repeating block of several lines, such as two threads yielding in turn', () => {
    const lines = Array.from({ length: 600 }, (_, i) => (i % 2 ? 'T2 yield' : 'T1 yield'));
    assert.deepEqual(summarizeRepeats(lines), ['T1 yield', 'T2 yield', '  … the 2 lines above repeated 298 more times …', 'T1 yield', 'T2 yield']);
  });
  it('leaves a block seen only twice alone', () => {
    assert.deepEqual(summarizeRepeats(['x', 'x']), ['x', 'x']);
  });
});

describe('syscallsJson', () => {
  const getpid = call(1, 39, 'getpid', 1n);
  const yields = [call(1, 24, 'sched_yield', 0n), call(2, 24, 'sched_yield', 0n)];

  it('lists calls that do not repeat in full, with no repeats and their count', () => {
    const j = syscallsJson([getpid, ...yields]);
    assert.deepEqual(j.syscalls.map((s) => s.tid), [1, 1, 2]);
    assert.deepEqual(j.syscallRepeats, []);
    assert.equal(j.syscallCount, 3);
  });

  it('keeps a repeated block as its first and last occurrence and says where they are in the list and how often it ran', () => {
    const calls = [getpid, ...Array.from({ length: 100 }, () => yields).flat(), getpid];
    const j = syscallsJson(calls);
    assert.deepEqual(j.syscalls.map((s) => `${s.name}/${s.tid}`), ['getpid/1', 'sched_yield/1', 'sched_yield/2', 'sched_yield/1', 'sched_yield/2', 'getpid/1']);
    assert.deepEqual(j.syscallRepeats, [{ first: 1, last: 3, period: 2, times: 100 }]);
    assert.equal(j.syscallCount, 202);
  });

  it('gives indices into the shortened list when several runs follow one another', () => {
    const a = call(1, 24, 'sched_yield', 0n);
    const b = call(1, 39, 'getpid', 1n);
    const j = syscallsJson([...Array(5).fill(a), ...Array(4).fill(b)]);
    assert.deepEqual(j.syscallRepeats, [{ first: 0, last: 1, period: 1, times: 5 }, { first: 2, last: 3, period: 1, times: 4 }]);
    assert.equal(j.syscalls.length, 4);
  });

  it('tells calls apart by what the text shows: the same call with another result is not a repeat', () => {
    const j = syscallsJson([call(1, 39, 'getpid', 1n), call(1, 39, 'getpid', 2n), call(1, 39, 'getpid', 3n)]);
    assert.equal(j.syscalls.length, 3);
  });
});

// A report must not grow with the instruction budget: repeated lines collapse to first, count, last.
import { strict as assert } from 'node:assert';
import { summarizeRepeats } from '../../src/report/repetition.js';

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

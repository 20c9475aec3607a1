// The V8 flags the launcher sets for a command: a smaller inlining budget for parallel explores only.
import { strict as assert } from 'node:assert';
import { PARALLEL_INLINING, v8FlagsFor } from '../../src/cli/v8-flags.js';
import { defaultWorkers } from '../../src/explore/worker-count.js';

describe('launcher V8 flags', () => {
  it('give an explore on the default workers of a two-core machine the parallel inlining budget', () => {
    assert.deepEqual(v8FlagsFor(['explore', 'scenario.json', '--preemptions', '3'], 2), [PARALLEL_INLINING]);
  });

  it('count an explore without --workers on the search\'s own default number of threads', () => {
    assert.deepEqual(v8FlagsFor(['explore', 'scenario.json']), defaultWorkers() > 1 ? [PARALLEL_INLINING] : []);
  });

  it('give none to an explore on one thread, by --workers or on a one-core machine', () => {
    assert.deepEqual(v8FlagsFor(['explore', 'scenario.json', '--workers', '1'], 8), []);
    assert.deepEqual(v8FlagsFor(['explore', 'scenario.json', '--workers=1'], 8), []);
    assert.deepEqual(v8FlagsFor(['explore', 'scenario.json'], 1), []);
  });

  it('read --workers in either form, after a --limit before the command', () => {
    assert.deepEqual(v8FlagsFor(['--limit', 'mappings=100', 'explore', 's.json', '--workers=3'], 1), [PARALLEL_INLINING]);
    assert.deepEqual(v8FlagsFor(['explore', 's.json', '--workers', '2'], 1), [PARALLEL_INLINING]);
  });

  it('give none to other commands, or to arguments the command will reject', () => {
    assert.deepEqual(v8FlagsFor(['run', 'scenario.json'], 4), []);
    assert.deepEqual(v8FlagsFor(['check', 'counter.s'], 4), []);
    assert.deepEqual(v8FlagsFor(['explore', 's.json', '--workers', 'many'], 4), []);
    assert.deepEqual(v8FlagsFor(['explore', 's.json', '--limit'], 4), []);
    assert.deepEqual(v8FlagsFor([], 4), []);
  });
});

// The mocha helper users put in their own suites.
import { strict as assert } from 'node:assert';
import { AssertionError } from 'node:assert';
import { expectSerializable } from '../../src/testing/expect-serializable.js';
import { counterScenario, SCENARIOS } from './fixtures.js';

describe('expectSerializable', () => {
  it('resolves with the result for a correct scenario file', async () => {
    const r = await expectSerializable(SCENARIOS + 'counter-two-threads.json', { preemptions: 1 });
    assert.equal(r.verdict, 'pass');
  });
  it('rejects a broken twin with an AssertionError that carries a replayable schedule', async () => {
    const { scenario } = await counterScenario('counter_add.bug-commit-outside.s');
    await assert.rejects(expectSerializable(scenario, { preemptions: 1 }), (e: unknown) => {
      assert.ok(e instanceof AssertionError);
      assert.match(e.message, /not-serializable: .*\n {4}replay: rseq-emu run SCENARIO --schedule '[^']+'/);
      return true;
    });
  });
});

// Ops indexed by mm_cid under exploration: the oracle replays each call with the ids it observed
// (cpu_id, node_id, mm_cid), so a correct op passes and one that does not compare mm_cid fails.
import { strict as assert } from 'node:assert';
import { explore } from '../../src/explore/explorer.js';
import { onCpus, SerialOracle } from '../../src/explore/oracle.js';
import { DEFAULT_PROFILE } from '../../src/kernel/profile.js';
import { loadProgram } from '../../src/program.js';
import { words } from '../support/program.js';
import { bundledScenario } from './fixtures.js';

const TWIN = 'mm_cid_counter.bug-no-cid-compare.s';

/** The bundled scenario with its op replaced by the broken twin. */
async function twinScenario() {
  const { scenario: s } = await bundledScenario('mm-cid-counter.json');
  const scenario = { ...s, source: s.source.replace('mm_cid_counter.s', TWIN) };
  return { scenario, image: await loadProgram(scenario.source) };
}

describe('an mm_cid-indexed counter (asm/mm_cid_counter.s, examples/scenarios/mm-cid-counter.json)', function () {
  this.timeout(300_000);

  it('passes every schedule within 2 deviations', async () => {
    const { scenario, image } = await bundledScenario('mm-cid-counter.json');
    const r = explore(image, scenario, {});
    assert.equal(r.verdict, 'pass', r.violations.slice(0, 5).map((v) => `${v.kind}: ${v.message} [${v.schedule}]`).join('\n'));
    assert.equal(r.complete, true);
  });

  it(`${TWIN}: the exhaustive search finds the lost update within 1,500 schedules`, async () => {
    const { scenario, image } = await twinScenario();
    const r = explore(image, scenario, { stopAtFirst: true });
    assert.equal(r.verdict, 'fail');
    assert.equal(r.violations[0]!.kind, 'not-serializable');
    assert.ok(r.schedules <= 1500, `first violation after ${r.schedules} schedules`);
  });

  it(`${TWIN}: PCT (depth 3, seed 1) finds it within 1,000 runs`, async () => {
    const { scenario, image } = await twinScenario();
    const r = explore(image, scenario, { mode: 'pct', runs: 1000, seed: 1, stopAtFirst: true });
    assert.equal(r.verdict, 'fail', `no violation in ${r.schedules} PCT runs`);
  });

  it('replays a call with the mm_cid it observed, not the one a lone thread would get on its CPU', async () => {
    const { scenario, image } = await bundledScenario('mm-cid-counter.json');
    const o = new SerialOracle(image, scenario, DEFAULT_PROFILE);
    try {
      // T1 and T2 ran on CPU 1 with id 0, T3 on CPU 2 with id 1.
      const observed = [[[{ cpu: 1, node: 0, mmCid: 0 }]], [[{ cpu: 1, node: 0, mmCid: 0 }]], [[{ cpu: 2, node: 0, mmCid: 1 }]]];
      const [withIds] = o.outcomes(observed);
      assert.deepEqual(words(withIds!.memory[0]!.bytes), [11n, 100n, 0n]);
      assert.deepEqual(withIds!.returns, [[0n], [0n], [1n]]);
      // Placed by CPU alone every call is a lone thread with id 0: the state the concurrent run reached is not among them.
      const [byCpu] = o.outcomes(onCpus([[2n], [2n], [4n]]));
      assert.deepEqual(words(byCpu!.memory[0]!.bytes), [111n, 0n, 0n]);
    } finally {
      o.close();
    }
  });
});

// The cpu_opv fallback ops under exploration: the oracle takes a call that finished through
// cpu_opv as one operation of its op, and the whole K = 2 space passes.
import { strict as assert } from 'node:assert';
import { readRseqTables } from '../../src/abi/tables.js';
import { exploreParallel } from '../../src/explore/explore-workers.js';
import { judgeRun } from '../../src/explore/judge.js';
import { SerialOracle } from '../../src/explore/oracle.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario } from './fixtures.js';

describe('exploring the cpu_opv fallback ops', function () {
  this.timeout(300_000);
  for (const name of ['counter-cpu-opv.json', 'cmpeqv-cpu-opv.json']) {
    it(`${name}: a thread that aborts twice finishes through cpu_opv, and the oracle accepts the run`, async () => {
      const { scenario, image } = await bundledScenario(name);
      const m = instantiate(image, scenario);
      const oracle = new SerialOracle(image, scenario, m.profile);
      try {
        // T3 is alone on CPU 1: two preemptions inside its section are two aborts.
        const out = m.run({ schedule: parseSchedule('c1:6 T3:preempt c1:8 T3:preempt') });
        assert.deepEqual(out.events.map((e) => e.outcome), ['aborted', 'aborted']);
        assert.deepEqual(out.syscalls.map((s) => [s.tid, s.name, s.ret]), [[3, 'cpu_opv', 0n]]);
        const violations = judgeRun({ machine: m, outcome: out, oracle, image, tables: readRseqTables(image), invariants: scenario.invariants, checks: [] });
        assert.deepEqual(violations, []);
      } finally {
        m.close();
        oracle.close();
      }
    });
    it(`${name} passes every schedule within 2 deviations`, async () => {
      const { scenario } = await bundledScenario(name);
      const r = await exploreParallel(scenario, { preemptions: 2 });
      assert.equal(r.verdict, 'pass', r.violations.map((v) => `${v.kind}: ${v.message} [${v.schedule}]`).join('\n'));
      assert.equal(r.complete, true);
    });
  }
  it("counter-cpu-opv.json: a section running on the CPU another thread's cpu_opv takes aborts, so no update is lost", async () => {
    const { scenario, image } = await bundledScenario('counter-cpu-opv.json');
    const m = instantiate(image, scenario);
    const oracle = new SerialOracle(image, scenario, m.profile);
    try {
      // T1 aborts twice and calls cpu_opv for CPU 0 from CPU 1 while T2 is inside its section on CPU 0.
      const out = m.run({ schedule: parseSchedule('c0:5 T1:signal:SIGUSR1 c0:8 T1:migrate:1 c1:12 c0:9 c1:0 c1:21 c0:3 c0:7') });
      assert.deepEqual(out.syscalls.filter((s) => s.name === 'cpu_opv').map((s) => [s.tid, s.ret]), [[1, 0n]]);
      const violations = judgeRun({ machine: m, outcome: out, oracle, image, tables: readRseqTables(image), invariants: scenario.invariants, checks: [] });
      assert.deepEqual(violations, []);
    } finally {
      m.close();
      oracle.close();
    }
  });
});

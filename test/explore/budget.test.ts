// Exploring code that does not terminate costs one budget, not minutes: the default schedule
// decides, and each explored schedule gets a budget derived from the default schedule's length.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explore } from '../../src/explore/explorer.js';
import { loadProgram } from '../../src/program.js';
import { scenarioFromJson, type Scenario } from '../../src/scenario/scenario.js';
import { findSymbol, type Image } from '../../src/asm/image.js';
import { Machine } from '../../src/kernel/machine.js';
import { inline } from '../support/program.js';
import { counterScenario } from './fixtures.js';

// waiter spins forever when it reads the flag before setter has stored it.
const WAIT_OR_SPIN = `
  setter:  movq $1, (%rdi)
           ret
  waiter:  movq (%rdi), %rax
           testq %rax, %rax
           jnz 2f
  1:       jmp 1b
  2:       ret
  spin:    jmp spin`;

describe('exploration budgets', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rseq-emu-budget-'));
    writeFileSync(join(dir, 'wait.s'), WAIT_OR_SPIN);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function scenario(threads: { entry: string; cpu: number }[], extra: Record<string, unknown> = {}): Promise<{ scenario: Scenario; image: Image }> {
    const s = scenarioFromJson({ source: 'wait.s', cpus: 2, memory: { flag: { size: 8 } }, threads: threads.map((t) => ({ ...t, args: ['flag'] })), ...extra }, join(dir, 'scenario.json'));
    return { scenario: s, image: await loadProgram(s.source) };
  }

  it('stops after one schedule with a livelock when the default schedule itself exhausts the budget', async () => {
    const { scenario: s, image } = await scenario([{ entry: 'spin', cpu: 0 }, { entry: 'spin', cpu: 1 }], { maxInstructions: 20_000 });
    const r = explore(image, s, { preemptions: 2 });
    assert.equal(r.verdict, 'fail');
    assert.equal(r.schedules, 1);
    assert.deepEqual(r.violations.map((v) => v.kind), ['livelock']);
  });

  it('reports the first schedule that exhausts its budget as a livelock and ends the search there', async () => {
    const { scenario: s, image } = await scenario([{ entry: 'setter', cpu: 0 }, { entry: 'waiter', cpu: 1 }]);
    const r = explore(image, s, { preemptions: 2 });
    assert.equal(r.verdict, 'fail');
    assert.equal(r.violationCount, 1);
    assert.equal(r.violations[0]!.kind, 'livelock');
    assert.equal(r.complete, false);
  });

  it('gives each schedule ten times the default schedule’s length, at least 100,000 instructions', async () => {
    const { scenario: s, image } = await scenario([{ entry: 'setter', cpu: 0 }, { entry: 'waiter', cpu: 1 }]);
    const r = explore(image, s, { preemptions: 2 });
    assert.match(r.violations[0]!.message, /instruction budget exhausted \(100000 instructions\)/);
  });

  it('uses an explicit per-schedule budget', async () => {
    const { scenario: s, image } = await scenario([{ entry: 'setter', cpu: 0 }, { entry: 'waiter', cpu: 1 }]);
    const r = explore(image, s, { preemptions: 2, scheduleBudget: 5000 });
    assert.match(r.violations[0]!.message, /instruction budget exhausted \(5000 instructions\)/);
  });
});

describe('time limits', function () {
  this.timeout(60_000);
  it('ends a run with status limit and the time limit as its reason when the deadline passes', async () => {
    const image = await inline('f: 1: jmp 1b');
    const machine = Machine.create(image, { maxInstructions: 100_000_000 });
    let now = 0;
    // A clock that moves one second each time it is read (0, 1, 2 …): the third check, before
    // instruction 12,288, is the first past a 1 s deadline.
    machine.deadline = { clock: () => now++, at: 1, seconds: 1 };
    try {
      const r = machine.call(findSymbol(image, 'f')!.address, []);
      assert.equal(r.status, 'limit');
      assert.equal(r.reason, 'time limit of 1 s reached');
      assert.equal(r.instructions, 3 * 4096 - 1);
    } finally {
      machine.close();
    }
  });

  it('stops a search whose time is up, and says the space was not finished', async () => {
    const { scenario: s, image } = await counterScenario('counter_add.s');
    let now = 0;
    const r = explore(image, s, { preemptions: 2, timeout: 5, clock: () => now++ });
    assert.equal(r.complete, false);
    assert.equal(r.verdict, 'pass');
    assert.ok(r.schedules <= 6, `${r.schedules} schedules`);
  });
});

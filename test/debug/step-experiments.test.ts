// The acceptance: single-stepping every bundled correct op as Linux treats ptrace stops
// livelocks through the arm store and the section start; each remedy completes with what `run`
// gives; the C loop cycles over its four lines under `next`.
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRseqTables } from '../../src/abi/tables.js';
import { loadCapstone } from '../../src/asm/capstone.js';
import { DebugSession, type SteppingStrategy } from '../../src/debug/session.js';
import { runStepExperiment, type StepBy, type StepOutcome } from '../../src/debug/step-run.js';
import { parseProfile } from '../../src/kernel/profile.js';
import { loadProgram } from '../../src/program.js';
import { loadScenario, type Scenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';

const SCENARIOS = 'examples/scenarios';
const correctOps = readdirSync('asm').filter((f) => f.endsWith('.s') && !f.includes('bug'));

/** Every (scenario, entry) that calls a correct op, as a one-thread scenario. */
async function cases(): Promise<{ name: string; scenario: Scenario }[]> {
  const out: { name: string; scenario: Scenario }[] = [];
  for (const f of readdirSync(SCENARIOS).filter((x) => x.endsWith('.json'))) {
    const sc = await loadScenario(join(SCENARIOS, f));
    const op = correctOps.find((o) => sc.source.endsWith(`/asm/${o}`));
    if (!op || sc.threads.length < 2) continue; // the correct ops' exploration scenarios
    const seen = new Set<string>();
    for (const t of sc.threads) {
      if (seen.has(t.entry)) continue;
      seen.add(t.entry);
      out.push({ name: `${op} ${t.entry} (${f})`, scenario: { ...sc, threads: [{ ...t, repeat: 1 }] } });
    }
  }
  return out;
}

function step(scenario: Scenario, strategy: SteppingStrategy, profile: string, by: StepBy = 'stepi'): { out: StepOutcome; session: DebugSession } {
  const session = DebugSession.create(loaded.get(scenario.source)!, { scenario }, { strategy, profile: parseProfile(profile) });
  return { out: runStepExperiment(session, { by, tid: 1, breaks: [], maxSteps: 2000, profile }), session };
}

/** What `run` gives for the same one-thread scenario: return values and data regions. */
function reference(scenario: Scenario, profile: string) {
  const m = instantiate(loaded.get(scenario.source)!, scenario, parseProfile(profile));
  try {
    const out = m.run();
    return { returns: out.threads[0]!.returns, memory: [...m.regions].map(([name, r]) => [name, [...m.emu.read(r.address, r.size)]]) };
  } finally {
    m.close();
  }
}

const loaded = new Map<string, Awaited<ReturnType<typeof loadProgram>>>();
let all: { name: string; scenario: Scenario }[] = [];

describe('stepping experiments', function () {
  this.timeout(120_000);
  before(async () => {
    await loadCapstone();
    all = await cases();
    for (const c of all) if (!loaded.has(c.scenario.source)) loaded.set(c.scenario.source, await loadProgram(c.scenario.source));
  });

  it('has a stepping case for every bundled correct op', () => {
    for (const op of correctOps) assert.ok(all.some((c) => c.name.startsWith(op + ' ')), `no scenario runs ${op}`);
  });

  it('stepi under linux livelocks on every bundled correct op, through the arm store and the section start', () => {
    for (const c of all) {
      const { out, session } = step(c.scenario, 'linux', 'linux');
      try {
        assert.equal(out.verdict, 'livelock', c.name);
        const image = loaded.get(c.scenario.source)!;
        const starts = readRseqTables(image).sections.map((s) => s.startIp);
        const cycle = out.cycle.map((r) => r.address);
        const start = starts.find((a) => cycle.includes(a));
        assert.ok(start !== undefined, `${c.name}: the cycle goes through a section start`);
        const arm = image.lines.find((l) => l.kind === 'instruction' && l.address + BigInt(l.size) === start)!;
        assert.match(arm.text, /%fs:8\(/, `${c.name}: the instruction before the start stores rseq_cs`);
        assert.ok(cycle.includes(arm.address), `${c.name}: the cycle goes through the arm store`);
        assert.equal(out.closingAbort?.effect.kind, 'aborted', c.name);
      } finally {
        session.close();
      }
    }
  });

  it('stepi under rseq-aware completes every bundled correct op with the return value and memory of run', () => {
    for (const c of all) {
      const { out, session } = step(c.scenario, 'rseq-aware', 'linux');
      try {
        assert.equal(out.verdict, 'completed', c.name);
        assert.equal(out.aborts, 0, c.name);
        const ref = reference(c.scenario, 'linux');
        assert.deepEqual(session.returnValues(1), ref.returns, c.name);
        assert.deepEqual(out.memory.map((m) => [m.name, [...m.bytes]]), ref.memory, c.name);
      } finally {
        session.close();
      }
    }
  });

  it('stepi under proposal-cpu-opv completes the fallback ops with the return value and memory of run, after their aborts', () => {
    const fallback = all.filter((c) => c.name.includes('.cpu-opv.s'));
    assert.equal(fallback.length, 2);
    for (const c of fallback) {
      const { out, session } = step(c.scenario, 'linux', 'proposal-cpu-opv');
      try {
        assert.equal(out.verdict, 'completed', c.name);
        assert.equal(out.aborts, 2, `${c.name}: two aborts, then cpu_opv`);
        assert.ok(session.machine.syscalls().some((x) => x.name === 'cpu_opv' && x.ret === 0n), c.name);
        const ref = reference(c.scenario, 'proposal-cpu-opv');
        assert.deepEqual(session.returnValues(1), ref.returns, c.name);
        assert.deepEqual(out.memory.map((m) => [m.name, [...m.bytes]]), ref.memory, c.name);
      } finally {
        session.close();
      }
    }
  });

  describe('the C retry loop (examples/programs/rseq-addv-loop.s)', () => {
    const C = 'examples/programs/rseq-addv-loop.s';
    const scenario = (): Scenario => ({ source: C, cpus: 2, profile: undefined, registration: 'glibc', memory: [], threads: [{ entry: 'main', args: [], cpu: 0, repeat: 1 }], invariants: [], maxInstructions: undefined });
    before(async () => loaded.set(C, await loadProgram(C)));
    it('next from main cycles over the four lines of the loop', () => {
      const { out, session } = step(scenario(), 'linux', 'linux', 'next');
      session.close();
      assert.equal(out.verdict, 'livelock');
      assert.deepEqual(out.cycle.map((r) => r.line?.line).sort(), [65, 66, 67, 68]);
    });
    it('next under rseq-aware completes after one attempt', () => {
      const { out, session } = step(scenario(), 'rseq-aware', 'linux', 'next');
      session.close();
      assert.equal(out.verdict, 'completed');
      assert.equal(out.rax, 1n);
    });
    it('next under no-rseq completes through the fallback path', () => {
      const { out, session } = step(scenario(), 'no-rseq', 'linux', 'next');
      session.close();
      assert.equal(out.verdict, 'completed');
      assert.equal(out.rax, 0n);
    });
  });
});

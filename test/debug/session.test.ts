// The debug session as ptrace on Linux makes it: a debug stop is a preempt event, so the resume
// work runs before the one instruction a stepi executes; breakpoints, continue, line stepping,
// all-stop, queued events, the strategies, and the profiles where the kernels differ.
import { strict as assert } from 'node:assert';
import { GLIBC_DEFAULTS } from '../../src/abi/glibc.js';
import { readRseqTables } from '../../src/abi/tables.js';
import { findSymbol, type Image } from '../../src/asm/image.js';
import { DebugSession, type DebugStop } from '../../src/debug/session.js';
import { parseProfile } from '../../src/kernel/profile.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { loadProgram } from '../../src/program.js';
import { loadScenario, parseMemorySpec } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundled, inline } from '../support/program.js';

const at = (image: Image, name: string, off = 0n) => findSymbol(image, name)!.address + off;
const counterTarget = { entry: 'counter_add', args: ['counters', '5'], memory: [parseMemorySpec('counters:16')] };

describe('the debug session', function () {
  this.timeout(30_000);
  let image: Image;
  let s: DebugSession;
  before(async () => {
    image = await bundled('counter_add.s');
  });
  afterEach(() => s?.close());
  const open = (opts: Parameters<typeof DebugSession.create>[2] = {}, img = image, target: Parameters<typeof DebugSession.create>[1] = counterTarget) => (s = DebugSession.create(img, target, opts));
  /** stepi until the thread is at `address`. */
  const stepTo = (address: bigint, tid = 1): DebugStop => {
    for (let i = 0; i < 20; i++) {
      const stop = s.stepi(tid);
      if (stop.address === address) return stop;
    }
    throw new Error(`never reached 0x${address.toString(16)}`);
  };

  describe('stopping and stepping', () => {
    it('starts with every thread stopped at its entry', () => {
      open();
      assert.deepEqual(s.threads(), [1]);
      assert.equal(s.entryStop().reason, 'entry');
      assert.equal(s.registers(1).rip, at(image, 'counter_add'));
    });
    it('executes exactly one instruction per stepi', () => {
      open();
      const stop = s.stepi(1);
      assert.equal(stop.reason, 'step');
      assert.equal(stop.instructions, 1);
      assert.equal(stop.address, at(image, '.Lcounter_add_retry'));
    });
    it('records every debug stop as a preemption before the next step', () => {
      open();
      s.stepi(1);
      s.stepi(1);
      assert.equal(s.schedule(), 'T1:preempt c0:1 T1:preempt c0:1');
    });
    it('aborts a stop at the section start with rseq_cs armed, and executes the abort handler’s first instruction', () => {
      open();
      stepTo(at(image, '.Lcounter_add_start'));
      const stop = s.stepi(1);
      assert.deepEqual(stop.resume, [{ tid: 1, effect: { kind: 'aborted', from: at(image, '.Lcounter_add_start'), to: at(image, '.Lcounter_add_abort') } }]);
      assert.equal(stop.address, at(image, '.Lcounter_add_retry'), 'the handler’s jmp back to the retry label ran');
    });
    it('reports the lazy clear of rseq_cs when a stop after the commit resumes', () => {
      open();
      stepTo(at(image, '.Lcounter_add_retry', 11n));
      s.strategy = 'rseq-aware';
      assert.equal(s.stepi(1).address, at(image, '.Lcounter_add_post_commit'));
      assert.deepEqual(s.stepi(1).resume[0]!.effect, { kind: 'cleared' });
    });
    it('ends with the return value when the entry returns', () => {
      open({ strategy: 'rseq-aware' });
      let stop = s.entryStop();
      while (stop.reason === 'step' || stop.reason === 'entry') stop = s.stepi(1);
      assert.equal(stop.reason, 'returned');
      assert.deepEqual(s.returnValues(1), [0n]);
      assert.ok(s.ended());
    });
    it('refuses to step a thread that does not exist', () => {
      open();
      assert.throws(() => s.stepi(7), /thread T7 does not exist/);
    });
  });

  describe('breakpoints and continue', () => {
    it('a breakpoint inside a section and one stepi resume at abort_ip’s handler', () => {
      open();
      const inside = at(image, '.Lcounter_add_start', 5n);
      s.addBreakpoint(inside);
      const hit = s.continue();
      assert.equal(hit.reason, 'breakpoint');
      assert.equal(hit.address, inside);
      s.removeBreakpoint(inside);
      const stop = s.stepi(1);
      assert.equal(stop.resume[0]!.effect.kind, 'aborted');
      assert.deepEqual(stop.resume[0]!.effect, { kind: 'aborted', from: inside, to: at(image, '.Lcounter_add_abort') });
      assert.equal(stop.address, at(image, '.Lcounter_add_retry'));
    });
    it('the same with rseq_cs set to 0 executes the instruction', () => {
      open();
      const inside = at(image, '.Lcounter_add_start', 5n);
      s.addBreakpoint(inside);
      s.continue();
      assert.ok(s.writeMemory(s.machine.rseqArea(1) + 8n, new Uint8Array(8)));
      const stop = s.stepi(1);
      assert.deepEqual(stop.resume[0]!.effect, { kind: 'none' });
      assert.equal(stop.address, at(image, '.Lcounter_add_start', 11n), 'the jne (6 bytes) was executed, not taken');
    });
    it('continue runs to the end with no abort: it makes progress', () => {
      open();
      const stop = s.continue();
      assert.equal(stop.reason, 'returned');
      assert.deepEqual(s.returnValues(1), [0n]);
      assert.equal(s.machine.events().filter((e) => e.outcome === 'aborted').length, 0);
    });
    it('continue from a breakpoint steps off it first, as gdb does, and that step is a stop too', () => {
      open();
      s.addBreakpoint(at(image, '.Lcounter_add_start'));
      assert.equal(s.continue().reason, 'breakpoint');
      const stop = s.continue();
      assert.equal(stop.reason, 'breakpoint', 'the step off the breakpoint aborted, so the retry reaches it again');
      assert.equal(stop.resume[0]!.effect.kind, 'aborted');
    });
  });

  describe('all-stop with several threads', () => {
    let two: Image;
    before(async () => {
      two = await bundled('counter_add.s');
    });
    const scenario = async () => loadScenario('examples/scenarios/counter-two-threads.json');
    it('stepping one thread leaves the other where it stopped', async () => {
      open({}, two, { scenario: await scenario() });
      const before = s.registers(2).rip;
      for (let i = 0; i < 3; i++) s.stepi(1);
      assert.equal(s.registers(2).rip, before);
      assert.ok(!s.schedule().includes('T2:preempt T2:preempt'), 'a thread that stays stopped is not switched out again');
    });
    it('stepping a thread that waits behind another on its CPU runs that thread, not the other', async () => {
      open({}, two, { scenario: await scenario() });
      const t1 = s.registers(1).rip;
      const stop = s.stepi(2);
      assert.equal(stop.tid, 2);
      assert.equal(stop.instructions, 1);
      assert.equal(stop.address, at(two, '.Lcounter_add_retry'));
      assert.equal(s.registers(1).rip, t1);
    });
    it('an event queued for a thread waits for that thread’s resume, not another’s', async () => {
      open({}, two, { scenario: await scenario() });
      s.queueEvent(2, { kind: 'migrate', cpu: 1 });
      s.stepi(1);
      assert.equal(s.rseqState().find((x) => x.tid === 2)!.cpu, 0);
      s.stepi(2);
      assert.equal(s.rseqState().find((x) => x.tid === 2)!.cpu, 1);
    });
    it('continue resumes every thread and both finish', async () => {
      open({}, two, { scenario: await scenario() });
      const stop = s.continue();
      assert.ok(s.ended());
      assert.equal(stop.reason, 'returned');
    });
  });

  describe('queued kernel events', () => {
    it('a migration queued for a stopped thread happens at its resume, and cpu_id follows', () => {
      open();
      s.queueEvent(1, { kind: 'migrate', cpu: 1 });
      s.stepi(1);
      const [st] = s.rseqState();
      assert.equal(st!.cpu, 1);
      assert.equal(st!.cpuId, 1);
    });
    it('a signal queued for a stopped thread is delivered at its resume: the step goes into the handler', () => {
      open();
      s.queueEvent(1, { kind: 'signal', signal: 10 });
      const stop = s.stepi(1);
      const sig = s.machine.events().find((e) => e.kind === 'signal')!;
      assert.deepEqual([sig.tid, sig.ip], [1, at(image, 'counter_add')]);
      assert.ok(!image.sections.some((x) => stop.address >= x.address && stop.address < x.address + BigInt(x.bytes.length)), 'the one instruction was the (emulator-supplied) handler’s');
    });
    it('refuses a migration to a CPU that does not exist', () => {
      open();
      assert.throws(() => s.queueEvent(1, { kind: 'migrate', cpu: 5 }), /CPU 5 does not exist/);
    });
  });

  describe('strategies', () => {
    it('rseq-aware runs a section to its post-commit address without stopping inside', () => {
      open({ strategy: 'rseq-aware' });
      stepTo(at(image, '.Lcounter_add_retry', 11n));
      const stop = s.stepi(1);
      assert.equal(stop.address, at(image, '.Lcounter_add_post_commit'));
      assert.equal(stop.instructions, 6, 'the arm store and the five instructions of the section');
      assert.equal(stop.commits, 1);
    });
    it('rseq-aware stops at a listed exit point when the section leaves through it', async () => {
      const cmp = await bundled('cmpeqv_storev.s');
      open({ strategy: 'rseq-aware' }, cmp, { entry: 'cmpeqv_storev', args: ['slots', '1', '9'], memory: [parseMemorySpec('slots:16')] });
      stepTo(at(cmp, '.Lcmpeqv_storev_retry', 11n));
      assert.equal(s.stepi(1).address, at(cmp, '.Lcmpeqv_storev_ne'));
    });
    it('rseq-aware stops at abort_ip when the section jumps there itself (a migration made the cpu compare fail)', () => {
      open({ strategy: 'rseq-aware' });
      stepTo(at(image, '.Lcounter_add_retry', 11n));
      s.queueEvent(1, { kind: 'migrate', cpu: 1 });
      assert.equal(s.stepi(1).address, at(image, '.Lcounter_add_abort'));
    });
    it('rseq-aware stops at a section start when rseq_cs is not armed for it', () => {
      open({ strategy: 'rseq-aware' });
      stepTo(at(image, '.Lcounter_add_retry', 11n));
      // The debugger makes the arm store store 0: the section is entered unprotected.
      s.setRegister(1, 'rax', 0n);
      const stop = s.stepi(1);
      assert.equal(stop.address, at(image, '.Lcounter_add_start'));
    });
    it('no-rseq refuses registration as glibc.pthread.rseq=0 does: cpu_id -2, __rseq_size 0', () => {
      open({ strategy: 'no-rseq' });
      assert.equal(s.rseqState()[0]!.cpuId, -2);
      assert.deepEqual([...s.readMemory(GLIBC_DEFAULTS.dataAddress + 8n, 4)!], [0, 0, 0, 0]);
    });
  });

  describe('profiles', () => {
    const livelocksAtStart = () => {
      stepTo(at(image, '.Lcounter_add_start'));
      return s.stepi(1).resume[0]!.effect.kind;
    };
    it('linux-6.19 aborts too: a trap is an entry from user mode, so the stop counts as a preemption', () => {
      open({ profile: parseProfile('linux-6.19') });
      assert.equal(livelocksAtStart(), 'aborted');
    });
    it('proposal-cpu-opv changes nothing for stepping by itself', () => {
      open({ profile: parseProfile('proposal-cpu-opv') });
      assert.equal(livelocksAtStart(), 'aborted');
    });
    const NO_RESTART = (src: string) => src.replace('.Lcounter_add_cs:\n\t.long 0, 0', '.Lcounter_add_cs:\n\t.long 0, 1');
    it('linux-5.x honours NO_RESTART_ON_PREEMPT in the descriptor: a stop inside does not abort', async () => {
      const { readFileSync } = await import('node:fs');
      const img = await inline(NO_RESTART(readFileSync('asm/counter_add.s', 'utf8')), 'no-restart.s');
      open({ profile: parseProfile('linux-5.x') }, img);
      stepTo(at(img, '.Lcounter_add_start'));
      const stop = s.stepi(1);
      assert.deepEqual(stop.resume[0]!.effect, { kind: 'none' });
      assert.equal(stop.address, at(img, '.Lcounter_add_start', 5n));
    });
    it('linux (6.1+) kills the thread for the same descriptor at the first stop inside', async () => {
      const { readFileSync } = await import('node:fs');
      const img = await inline(NO_RESTART(readFileSync('asm/counter_add.s', 'utf8')), 'no-restart.s');
      open({}, img);
      stepTo(at(img, '.Lcounter_add_start'));
      const stop = s.stepi(1);
      assert.equal(stop.reason, 'killed');
      assert.equal(stop.signal, 11);
    });
  });

  describe('line stepping', () => {
    const CALLS = `
	.globl caller
	.type caller, @function
caller:
	call helper
	addq $1, %rax
	ret
helper:
	movl $41, %eax
	ret
`;
    it('next steps over a call to the line after it', async () => {
      const img = await inline(CALLS, 'calls.s');
      open({}, img, { entry: 'caller', args: [] });
      const stop = s.next(1);
      assert.equal(stop.address, at(img, 'caller', 5n));
      assert.equal(stop.instructions, 3);
    });
    it('step goes into the call', async () => {
      const img = await inline(CALLS, 'calls.s');
      open({}, img, { entry: 'caller', args: [] });
      assert.equal(s.step(1).address, at(img, 'helper'));
    });
    it('follows the C lines of gcc -g output, not the assembly lines', async () => {
      const img = await loadProgram('examples/programs/rseq-addv-loop.s');
      open({}, img, { entry: 'main', args: [] });
      assert.deepEqual(s.lineOf(s.registers(1).rip), { file: 'rseq-addv-loop.c', line: 56 });
      const lines = [s.next(1), s.next(1)].map((x) => s.lineOf(x.address)?.line);
      assert.deepEqual(lines, [58, 60]);
    });
  });

  describe('state', () => {
    it('reads and writes registers and memory; unmapped memory is null', () => {
      open();
      s.setRegister(1, 'rax', 0x1234n);
      assert.equal(s.registers(1).rax, 0x1234n);
      const counters = s.machine.regions.get('counters')!.address;
      assert.ok(s.writeMemory(counters, new Uint8Array([7])));
      assert.deepEqual([...s.readMemory(counters, 2)!], [7, 0]);
      assert.equal(s.readMemory(0x10n, 4), null);
      assert.throws(() => s.setRegister(1, 'xyz', 1n), /unknown register/);
    });
    it('names the section a thread is in', () => {
      open();
      stepTo(at(image, '.Lcounter_add_start'));
      assert.equal(s.rseqState()[0]!.inside, '.Lcounter_add_start');
      assert.equal(s.rseqState()[0]!.rseqCs, readRseqTables(image).sections[0]!.descriptor);
    });
    it('replays: the executed schedule gives run the same memory and return value', () => {
      open({ strategy: 'rseq-aware' });
      let stop = s.entryStop();
      while (stop.reason === 'step' || stop.reason === 'entry') stop = s.stepi(1);
      const scenario = { source: image.file, cpus: 2, profile: undefined, registration: 'glibc' as const, memory: [parseMemorySpec('counters:16')], threads: [{ entry: 'counter_add', args: [{ kind: 'name' as const, name: 'counters', offset: 0n }, { kind: 'number' as const, value: 5n }], cpu: 0, repeat: 1 }], invariants: [], maxInstructions: undefined };
      const m = instantiate(image, scenario);
      try {
        const out = m.run({ schedule: parseSchedule(s.schedule()) });
        assert.deepEqual(out.threads[0]!.returns, s.returnValues(1));
        const r = m.regions.get('counters')!;
        assert.deepEqual(m.emu.read(r.address, r.size), s.readMemory(s.machine.regions.get('counters')!.address, 16));
        assert.equal(out.schedule, s.schedule());
      } finally {
        m.close();
      }
    });
  });
});

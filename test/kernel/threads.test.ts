// Threads on virtual CPUs: who runs when, what a switch means for rseq, and runs that replay
// exactly. The concurrency bugs here are made by real threads under a schedule, not by callbacks.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { readRseqTables } from '../../src/abi/tables.js';
import type { Image } from '../../src/asm/image.js';
import { RseqEmuError } from '../../src/errors.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { ASM_DIR, bundled, inline } from '../support/program.js';
import { boot, fingerprint, runClosed, runThreads, type Setup, twoAdders } from '../support/threads.js';

const COUNTERS = { name: 'counters', size: 16 };


/** The tids of the trace with repeats collapsed: who ran, in order. */
const turns = (trace: { tid: number }[]): number[] => trace.map((s) => s.tid).filter((tid, i, all) => i === 0 || all[i - 1] !== tid);

const section = (image: Image) => readRseqTables(image).sections[0]!;

const usageError = (pattern: RegExp) => (e: unknown) => e instanceof RseqEmuError && e.code === 'USAGE' && pattern.test(e.message);

// A thread that yields once in the middle: `nop; sched_yield; nop; ret`.
const YIELDER = `
  y: nop
     movl $24, %eax
     syscall
     nop
     ret
  n: nop
     nop
     ret`;

describe('threads, CPUs and schedules', () => {
  describe('one CPU', () => {
    it('runs the threads queued on a CPU one at a time, each to its end, in the order they were started', async () => {
      const r = runClosed(await bundled('counter_add.s'), twoAdders([0, 0]), { trace: true });
      assert.deepEqual(turns(r.outcome.trace), [1, 2]);
      assert.deepEqual(r.memory.counters, [11n, 0n]);
    });

    it('makes a switch to another thread on the same CPU a preemption of the thread switched out', async () => {
      const image = await bundled('counter_add.s');
      // T1 has executed the four instructions before start_ip, then T2 takes CPU 0.
      const r = runClosed(image, twoAdders([0, 0]), { schedule: 'c0:4 T1:preempt', trace: true });
      assert.deepEqual(turns(r.outcome.trace), [1, 2, 1]);
      assert.deepEqual(r.outcome.events.map((e) => [e.tid, e.kind, e.ip]), [[1, 'preempt', section(image).startIp]]);
      assert.equal(r.outcome.events[0]!.outcome, 'aborted', 'the thread switched out gets the event, and was inside its section');
      assert.deepEqual(r.memory.counters, [11n, 0n]);
    });

    it('gives the thread switched in no event', async () => {
      const image = await bundled('counter_add.s');
      const r = runClosed(image, twoAdders([0, 0]), { schedule: 'c0:4 T1:preempt' });
      assert.ok(r.outcome.events.every((e) => e.tid === 1));
    });
  });

  describe('several CPUs', () => {
    it('interleaves threads on different CPUs exactly as the schedule steps them', async () => {
      const r = runClosed(await bundled('counter_add.s'), twoAdders([0, 1]), { schedule: 'c0:2 c1:3 c0:1 c1:1', trace: true });
      assert.deepEqual(r.outcome.trace.slice(0, 7).map((s) => [s.tid, s.cpu]), [[1, 0], [1, 0], [2, 1], [2, 1], [2, 1], [1, 0], [2, 1]]);
      assert.deepEqual(r.memory.counters, [1n, 10n]);
      assert.deepEqual(r.outcome.events, [], 'threads on different CPUs do not preempt each other');
    });

    it('moves a migrated thread to the other CPU, where it runs when that CPU is stepped', async () => {
      const image = await bundled('counter_add.s');
      const r = runClosed(image, { regions: [COUNTERS], threads: [{ entry: 'counter_add', args: ['counters', 1n], cpu: 0 }] }, { schedule: 'c0:2 T1:migrate:1 c1:*', trace: true });
      assert.deepEqual(r.outcome.trace.map((s) => s.cpu).slice(1, 4), [0, 1, 1]);
      assert.equal(r.outcome.threads[0]!.cpu, 1);
      assert.deepEqual(r.outcome.threads[0]!.returns, [1n], 'counter_add returns the CPU it committed on');
      assert.deepEqual(r.memory.counters, [0n, 1n]);
    });

    it('refuses to step a CPU a migrated thread has left', async () => {
      const image = await bundled('counter_add.s');
      const { machine } = boot(image, { regions: [COUNTERS], threads: [{ entry: 'counter_add', args: ['counters', 1n], cpu: 0 }] });
      try {
        assert.throws(() => machine.run({ schedule: parseSchedule('c0:2 T1:migrate:1 c0:1') }), usageError(/'c0:1': CPU 0 has no thread to run/));
      } finally {
        machine.close();
      }
    });
  });

  describe('default schedule', () => {
    it('visits CPUs round-robin from CPU 0, each thread running until it leaves its CPU', async () => {
      const image = await inline(YIELDER);
      // T1 (CPU 0) yields to T3 (CPU 0); T2 runs on CPU 1 in between because CPU 1 comes next.
      const r = runClosed(image, { threads: [{ entry: 'y', cpu: 0 }, { entry: 'n', cpu: 1 }, { entry: 'n', cpu: 0 }] }, { trace: true });
      assert.deepEqual(turns(r.outcome.trace), [1, 2, 3, 1]);
      assert.equal(r.outcome.status, 'completed');
    });

    it('finishes a run after the explicit steps run out', async () => {
      const r = runClosed(await bundled('counter_add.s'), twoAdders([0, 1]), { schedule: 'c1:3' });
      assert.equal(r.outcome.status, 'completed');
      assert.deepEqual(r.memory.counters, [1n, 10n]);
    });
  });

  describe('replay', () => {
    // Three threads, two CPUs, every kind of event.
    const busy: Setup = {
      regions: [COUNTERS],
      threads: [
        { entry: 'counter_add', args: ['counters', 1n], cpu: 0, repeat: 3 },
        { entry: 'counter_add', args: ['counters', 10n], cpu: 0, repeat: 2 },
        { entry: 'counter_add', args: ['counters', 100n], cpu: 1, repeat: 2 },
      ],
    };
    const SCHEDULE = 'c0:5 T1:preempt c0:6 c1:4 T3:migrate:0 T2:signal c0:3 T1:ipi c0:*';

    it('gives byte-identical memory, registers and events when the same schedule runs twice', async () => {
      const image = await bundled('counter_add.s');
      const a = runThreads(image, busy, { schedule: SCHEDULE });
      const b = runThreads(image, busy, { schedule: SCHEDULE });
      try {
        assert.ok(a.outcome.events.length >= 4);
        assert.deepEqual(fingerprint(b), fingerprint(a));
        assert.equal(b.outcome.schedule, a.outcome.schedule);
      } finally {
        a.machine.close();
        b.machine.close();
      }
    });

    it('replays a run identically from its executed schedule', async () => {
      const image = await bundled('counter_add.s');
      const a = runThreads(image, busy, { schedule: SCHEDULE });
      const b = runThreads(image, busy, { schedule: a.outcome.schedule });
      try {
        assert.deepEqual(fingerprint(b), fingerprint(a));
        assert.equal(b.outcome.schedule, a.outcome.schedule);
      } finally {
        a.machine.close();
        b.machine.close();
      }
    });

    it('replays a run with location events from its executed schedule alone', async () => {
      const image = await bundled('counter_add.s');
      const a = runThreads(image, busy, { events: ['preempt@.Lcounter_add_start', 'migrate:1@.Lcounter_add_post_commit', 'signal@.Lcounter_add_retry'] });
      const b = runThreads(image, busy, { schedule: a.outcome.schedule });
      try {
        assert.equal(a.outcome.events.length, 3);
        for (const e of [/T\d:preempt/, /T\d:migrate:1/, /T\d:signal:SIGUSR1/]) assert.match(a.outcome.schedule, e);
        assert.deepEqual(fingerprint(b), fingerprint(a));
      } finally {
        a.machine.close();
        b.machine.close();
      }
    });
  });

  describe('replay of the kernel work on the way back to user space', () => {
    const replays = (image: Image, setup: Setup, how: { events?: string[]; schedule?: string }) => {
      const a = runThreads(image, setup, how);
      try {
        const b = runThreads(image, setup, { schedule: a.outcome.schedule });
        try {
          assert.deepEqual(fingerprint(b), fingerprint(a), `replaying '${a.outcome.schedule}'`);
        } finally {
          b.machine.close();
        }
        return a.outcome;
      } finally {
        a.machine.close();
      }
    };

    it('replays an event at abort_ip, reached by the abort the previous event caused', async () => {
      const image = await bundled('counter_add.s');
      const o = replays(image, { regions: [COUNTERS], threads: [{ entry: 'counter_add', args: ['counters', 1n] }] }, { events: ['preempt@.Lcounter_add_start', 'migrate:1@.Lcounter_add_abort'] });
      assert.deepEqual(o.events.map((e) => e.outcome), ['aborted', 'none']);
    });

    it('replays an event at the IP where a switched-out thread resumes, after its pending work', async () => {
      // T1 is switched out after its commit (rseq_cs still set); T2 runs; T1 resumes there and gets a signal.
      const image = await inline(`${readFileSync(ASM_DIR + 'counter_add.s', 'utf8')}\n n: nop\n ret`);
      const o = replays(image, { regions: [COUNTERS], threads: [{ entry: 'counter_add', args: ['counters', 1n], cpu: 0 }, { entry: 'n', cpu: 0 }] }, {
        events: ['preempt@.Lcounter_add_post_commit', 'signal@.Lcounter_add_post_commit'],
      });
      assert.deepEqual(o.events.map((e) => e.outcome), ['cleared', 'none'], 'the lazy clear happened before the signal');
    });

    it('replays a thread killed on its way back to user space before its first instruction', async () => {
      // The parent SIGKILLs its fork child before the child ever ran, then waits for it.
      const image = await inline(`
        f:  movq %rdi, %rbx
            movl $57, %eax
            syscall
            testq %rax, %rax
            jz child
            movq %rax, %rdi
            movl $9, %esi
            movl $62, %eax
            syscall
            movq $-1, %rdi
            movq %rbx, %rsi
            xorl %edx, %edx
            xorl %r10d, %r10d
            movl $61, %eax
            syscall
            ret
        child:
            nop
            ret`);
      const o = replays(image, { regions: [{ name: 'm', size: 8 }], threads: [{ entry: 'f', args: ['m'] }] }, {});
      assert.equal(o.threads[1]!.end?.signal, 'SIGKILL');
      assert.equal(o.threads[1]!.instructions, 0);
    });

    it('replays a run that ran out of its instruction budget, to the same instruction', async () => {
      const image = await inline('f: movq %rdi, %rbx\n 1: incq (%rbx)\n movl $24, %eax\n syscall\n jmp 1b');
      const setup: Setup = { maxInstructions: 300, regions: [{ name: 'm', size: 16 }], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'f', args: ['m+8'], cpu: 1 }, { entry: 'f', args: ['m'], cpu: 0 }] };
      const o = replays(image, setup, { schedule: 'c1:7 T2:migrate:0 c0:3' });
      assert.equal(o.status, 'limit');
      assert.equal(o.instructions, 300);
    });

    it('replays runs with yields, sleeps, signals, a fork and wait4', async () => {
      const image = await inline(`
        f:  movq %rdi, %rbx
            leaq h(%rip), %rax
            movq %rax, (%rbx)
            movq $0x04000000, 8(%rbx)
            leaq r(%rip), %rax
            movq %rax, 16(%rbx)
            movq $0, 24(%rbx)
            movl $12, %edi
            movq %rbx, %rsi
            xorl %edx, %edx
            movl $8, %r10d
            movl $13, %eax
            syscall
            movl $57, %eax
            syscall
            testq %rax, %rax
            jz child
            movl $24, %eax
            syscall
            movq $-1, %rdi
            leaq 32(%rbx), %rsi
            xorl %edx, %edx
            xorl %r10d, %r10d
            movl $61, %eax
            syscall
            ret
        child:
            leaq 48(%rbx), %rdi
            xorl %esi, %esi
            movl $35, %eax
            syscall
            movl $39, %eax
            syscall
            movq %rax, %rdi
            movl $12, %esi
            movl $62, %eax
            syscall
            movl $3, %edi
            movl $60, %eax
            syscall
        h:  incq 40(%rbx)
            ret
        r:  movl $15, %eax
            syscall`);
      const setup: Setup = { regions: [{ name: 'm', size: 64 }, { name: 'n', size: 64 }], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'f', args: ['n'], cpu: 0 }] };
      for (const schedule of ['', 'c0:15 T1:signal:SIGUSR2 c0:0 c1:2 T1:preempt c0:3', 'c0:16 c0:0 T3:migrate:0 c0:2 c0:0 c0:1 T2:signal:12']) {
        const o = replays(image, setup, { schedule });
        assert.equal(o.status, 'completed', schedule);
      }
    });

    it('returns the thread to user space on a zero-length step, doing its pending work without running an instruction', async () => {
      const image = await bundled('counter_add.s');
      const r = runClosed(image, { regions: [COUNTERS], threads: [{ entry: 'counter_add', args: ['counters', 1n] }] }, { schedule: 'c0:5 T1:preempt c0:0 T1:migrate:1' });
      const [preempt, migrate] = r.outcome.events;
      assert.equal(preempt!.outcome, 'aborted');
      assert.equal(migrate!.ip, preempt!.resumeIp, 'the migration found the thread at abort_ip');
      assert.equal(migrate!.before, preempt!.before, 'no instruction ran in between');
    });
  });

  describe('concurrency bugs found by real threads', () => {
    it('counter_add.s keeps every update when T1 is switched out at any instruction boundary and T2 runs on its CPU', async () => {
      const image = await bundled('counter_add.s');
      const cs = section(image);
      const insideBoundaries = new Set<bigint>();
      // counter_add runs 11 instructions without an abort; T1 ends after the 11th.
      for (let k = 0; k < 11; k++) {
        const r = runClosed(image, twoAdders([0, 0]), { schedule: `c0:${k} T1:preempt` });
        assert.deepEqual(r.memory.counters, [11n, 0n], `switched out after ${k} instructions`);
        const e = r.outcome.events[0]!;
        const inside = e.ip >= cs.startIp && e.ip < cs.postCommitIp;
        if (inside) insideBoundaries.add(e.ip);
        assert.equal(e.outcome === 'aborted', inside, `abort iff inside the section (k = ${k})`);
      }
      assert.equal(insideBoundaries.size, 5, 'every instruction of the section was a switch point');
    });

    it('counter_add.bug-commit-outside.s loses T2\'s update when T1 is switched out at its commit store', async () => {
      const image = await bundled('counter_add.bug-commit-outside.s');
      // Eight instructions bring T1 to the commit store, which this twin leaves outside its section.
      const r = runClosed(image, twoAdders([0, 0]), { schedule: 'c0:8 T1:preempt' });
      assert.equal(r.outcome.events[0]!.ip, section(image).postCommitIp);
      assert.notEqual(r.outcome.events[0]!.outcome, 'aborted');
      assert.deepEqual(r.memory.counters, [1n, 0n], 'T1 stored its stale sum over T2\'s +10');
    });

    it('counter_add.bug-late-rseq-cs.s loses T2\'s update when T1 is switched out after its early load', async () => {
      const image = await bundled('counter_add.bug-late-rseq-cs.s');
      // Three instructions: the offset load, the cpu load and the (unprotected) counter load.
      const r = runClosed(image, twoAdders([0, 0]), { schedule: 'c0:3 T1:preempt' });
      assert.ok(r.outcome.events[0]!.ip < section(image).startIp);
      assert.deepEqual(r.memory.counters, [1n, 0n]);
    });

    it('counter_add.s keeps both updates under the schedules that break its twins', async () => {
      const image = await bundled('counter_add.s');
      for (const schedule of ['c0:8 T1:preempt', 'c0:3 T1:preempt']) assert.deepEqual(runClosed(image, twoAdders([0, 0]), { schedule }).memory.counters, [11n, 0n], schedule);
    });

    // T1 loads cpu 0, migrates to CPU 1 and stops just before its commit; T2 on CPU 0 then adds to counters[0]; T1 commits.
    const MIGRATION_RACE = 'c0:2 T1:migrate:1 c1:4 c0:* c1:*';

    it('counter_add.bug-no-cpu-compare.s loses an update when a thread on the old CPU updates the slot after the migration', async () => {
      const r = runClosed(await bundled('counter_add.bug-no-cpu-compare.s'), twoAdders([0, 0]), { schedule: MIGRATION_RACE });
      assert.deepEqual(r.outcome.threads.map((t) => t.cpu), [1, 0]);
      assert.deepEqual(r.memory.counters, [1n, 0n], 'T1 committed counters[0] + 1 over T2\'s +10');
    });

    it('counter_add.s aborts on the cpu compare after the same migration and keeps both updates', async () => {
      const r = runClosed(await bundled('counter_add.s'), twoAdders([0, 0]), { schedule: MIGRATION_RACE });
      assert.deepEqual(r.memory.counters, [10n, 1n]);
      assert.deepEqual(r.outcome.threads[0]!.returns, [1n]);
    });
  });
});

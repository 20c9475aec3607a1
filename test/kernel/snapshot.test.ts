// Capture and restore: a rewound machine continues exactly as the original did.
import { strict as assert } from 'node:assert';
import { Machine } from '../../src/kernel/machine.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { address, bundled, inline, words } from '../support/program.js';

async function counterMachine() {
  const image = await bundled('counter_add.s');
  const m = Machine.create(image, { cpus: 2 });
  const counters = m.allocate('counters', 16);
  m.spawn({ entry: address(image, 'counter_add'), args: [counters, 1n], cpu: 0 });
  m.spawn({ entry: address(image, 'counter_add'), args: [counters, 10n], cpu: 0 });
  return { m, counters };
}

const finish = (m: Machine) => {
  while (m.step(null));
  return m.result();
};

/** Forks: the child stores 5 and exits, the parent returns. */
const FORK_THEN_EXIT = `
      f: movq %rdi, %rbx
         movl $57, %eax
         syscall
         testq %rax, %rax
         jnz parent
         movq $5, (%rbx)
         movl $60, %eax
         xorl %edi, %edi
         syscall
      parent: ret`;

/** A machine begun with one thread that will run FORK_THEN_EXIT. */
async function forkMachine(): Promise<Machine> {
  const image = await inline(FORK_THEN_EXIT);
  const m = Machine.create(image);
  m.spawn({ entry: address(image, 'f'), args: [m.allocate('out', 8)] });
  m.begin();
  return m;
}

describe('machine snapshots', () => {
  it('continues after a restore exactly as the uninterrupted run did: memory, registers, events, schedule', async () => {
    const { m, counters } = await counterMachine();
    m.begin();
    for (const item of parseSchedule('c0:7 T1:preempt c0:3')) m.step(item);
    const snap = m.capture();
    const first = finish(m);
    const mem1 = words(m.emu.read(counters, 16));
    m.restore(snap);
    const second = finish(m);
    const mem2 = words(m.emu.read(counters, 16));
    m.close();
    assert.deepEqual(mem2, mem1);
    assert.equal(second.schedule, first.schedule);
    assert.deepEqual(second.events, first.events);
    assert.deepEqual(second.threads.map((t) => t.registers), first.threads.map((t) => t.registers));
  });

  it('can be restored many times, each time from the same state', async () => {
    const { m, counters } = await counterMachine();
    m.begin();
    m.step(parseSchedule('c0:5')[0]!);
    const snap = m.capture();
    const results: bigint[][] = [];
    for (const alt of ['T1:preempt', 'T1:migrate:1', 'c0:1']) {
      m.restore(snap);
      m.step(parseSchedule(alt)[0]!);
      finish(m);
      results.push(words(m.emu.read(counters, 16)));
    }
    m.close();
    assert.deepEqual(results, [[11n, 0n], [10n, 1n], [11n, 0n]]);
  });

  it('keeps every thread as captured while the run goes on: signals queued and delivered, calls completed, stores in a section', async () => {
    const image = await bundled('buffer_push.s');
    const m = Machine.create(image, { cpus: 2, trackSpeculativeStores: true });
    const bufs = m.allocate('bufs', 256);
    for (const cpu of [0n, 1n]) m.emu.writeU64(bufs + cpu * 128n + 8n, 14n); // each CPU's capacity
    m.spawn({ entry: address(image, 'buffer_push'), args: [bufs, 7n], cpu: 0, repeat: 3 });
    m.spawn({ entry: address(image, 'buffer_push'), args: [bufs, 9n], cpu: 1, repeat: 3 });
    m.begin();
    m.step(parseSchedule('c0:15')[0]!); // T1 has stored its item, before its commit
    const snap = m.capture();
    const fields = () => snap.threads.map((t) => ({ ...t.fields, program: t.fields.program && { ...t.fields.program } }));
    const before = structuredClone(fields());
    assert.ok(before[0]!.attemptStores.length > 0, 'the capture is taken after a store inside the section');
    for (const item of parseSchedule('T1:signal T2:signal c1:4 T2:migrate:0 c0:9')) m.step(item);
    finish(m);
    assert.ok(m.allThreads().every((t) => t.program!.returns.length === 3), 'every call completed after the capture');
    assert.deepEqual(fields(), before);
    m.close();
  });

  it('keeps an event that waits for its fix-up waiting in the snapshot after the run settles it', async () => {
    const { m } = await counterMachine();
    m.begin();
    for (const item of parseSchedule('c0:7 T1:preempt')) m.step(item);
    const snap = m.capture();
    const waiting = m.events().length - 1;
    assert.equal(m.events()[waiting]!.outcome, 'none');
    const first = finish(m);
    assert.equal(first.events[waiting]!.outcome, 'aborted');
    m.restore(snap);
    assert.equal(m.events()[waiting]!.outcome, 'none');
    const second = finish(m);
    m.close();
    assert.deepEqual(second.events, first.events);
  });

  it('counts a thread live again after a rewind to before its exit', async () => {
    const { m } = await counterMachine();
    m.begin();
    const snap = m.capture();
    finish(m);
    assert.deepEqual(m.allThreads().map((t) => t.state), ['exited', 'exited']);
    assert.equal(m.tasks().threads, 0);
    m.restore(snap);
    assert.deepEqual(m.allThreads().map((t) => t.state), ['runnable', 'runnable']);
    assert.equal(m.tasks().threads, 2);
    assert.equal(m.thread(1), m.allThreads()[0]);
    const again = finish(m);
    m.close();
    assert.equal(again.status, 'completed');
  });

  it('rewinds memory written after the capture, including stacks', async () => {
    const image = await inline('f: pushq $7\n popq %rax\n movq %rax, (%rdi)\n ret');
    const m = Machine.create(image);
    const out = m.allocate('out', 8);
    const t = m.spawn({ entry: address(image, 'f'), args: [out] });
    m.begin();
    const snap = m.capture();
    finish(m);
    assert.equal(m.emu.readU64(out), 7n);
    m.restore(snap);
    assert.equal(m.emu.readU64(out), 0n);
    assert.equal(m.registersOf(m.thread(t.tid)!).rip, address(image, 'f'));
    m.close();
  });

  it('brings back a forked process that a later restore had discarded', async () => {
    const m = await forkMachine();
    const before = m.capture();
    m.step(parseSchedule('c0:3')[0]!);
    const afterFork = m.capture();
    assert.equal(m.processes.length, 2);
    m.restore(before);
    assert.equal(m.processes.length, 1);
    m.restore(afterFork);
    assert.equal(m.processes.length, 2);
    const r = finish(m);
    m.close();
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.threads.map((t) => t.end?.status), ['returned', 'exited']);
  });

  it('forgets the thread it had loaded in a process a restore discards, so a capture after it saves only live ones', async () => {
    const m = await forkMachine();
    const before = m.capture();
    m.step(parseSchedule('c0:3')[0]!); // the fork: the child's thread is loaded in its new process
    m.restore(before);
    const again = m.capture();
    assert.deepEqual(again.loaded, before.loaded);
    m.restore(again);
    const r = finish(m);
    m.close();
    assert.deepEqual(r.threads.map((t) => t.end?.status), ['returned', 'exited']);
  });
});

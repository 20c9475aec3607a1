// mm_cid as Linux 6.13–6.18 assigns it (kernel/mm-cid.ts), and what the machine publishes and
// records of it: per process, compact from 0, stable while a thread stays on its CPU, never shared
// by threads running at the same time.
import { strict as assert } from 'node:assert';
import { ConcurrencyIds } from '../../src/kernel/mm-cid.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { address, inline } from '../support/program.js';
import { areaOf, boot, runClosed, runThreads } from '../support/threads.js';

/** `cid()`: returns the mm_cid in the caller's rseq area. */
const READ_CID = `
  cid: movq __rseq_offset(%rip), %rcx
       movl %fs:24(%rcx), %eax
       ret
`;

describe('mm_cid', () => {
  describe('assignment (mm_cid_get, migrate_to, exit)', () => {
    it('hands out ids from 0 in the order CPUs ask for them, whatever their numbers', () => {
      const ids = new ConcurrencyIds(4);
      assert.equal(ids.schedIn(3, 4), 0);
      assert.equal(ids.schedIn(1, 4), 1);
    });

    it('keeps a CPU\'s id for every thread of the process that runs there', () => {
      const ids = new ConcurrencyIds(4);
      const first = ids.schedIn(2, 3);
      ids.schedIn(0, 3);
      assert.equal(ids.schedIn(2, 3), first);
    });

    it('moves the id with a thread leaving a CPU that runs no other thread of its process', () => {
      const ids = new ConcurrencyIds(4);
      const cid = ids.schedIn(1, 2);
      assert.equal(ids.migrate(1, 3, cid, 2, false), cid);
      assert.equal(ids.schedIn(3, 2), cid);
      assert.equal(ids.schedIn(1, 2), 1, 'CPU 1 gave its id away');
    });

    it('leaves the id on the source CPU when another thread of the process runs there, and forgets it as the thread\'s last', () => {
      const ids = new ConcurrencyIds(4);
      const cid = ids.schedIn(1, 2);
      assert.equal(ids.migrate(1, 3, cid, 2, true), null);
      assert.equal(ids.schedIn(1, 2), cid);
      assert.notEqual(ids.schedIn(3, 2), cid);
    });

    it('drops the migrating thread\'s id when the destination holds one and the process has fewer threads than CPUs', () => {
      const ids = new ConcurrencyIds(4);
      const a = ids.schedIn(0, 2);
      const b = ids.schedIn(1, 2);
      ids.migrate(1, 0, b, 2, false);
      assert.equal(ids.schedIn(0, 2), a);
      assert.equal(ids.schedIn(2, 2), b, 'the dropped id is free again');
    });

    it('keeps both ids when the process has as many threads as CPUs', () => {
      const ids = new ConcurrencyIds(2);
      const a = ids.schedIn(0, 2);
      const b = ids.schedIn(1, 2);
      ids.migrate(1, 0, b, 2, false);
      assert.equal(ids.schedIn(0, 2), a);
      assert.equal(ids.schedIn(1, 2), b);
    });

    it('gives an exiting thread\'s id back, and its CPU takes it again as its recent one', () => {
      const ids = new ConcurrencyIds(4);
      ids.schedIn(0, 3);
      const b = ids.schedIn(1, 3);
      ids.exit(1);
      assert.equal(ids.schedIn(2, 3), 2, 'a new CPU does not reuse another CPU\'s recent id while it can grow');
      assert.equal(ids.schedIn(1, 3), b);
    });
  });

  describe('in the machine', () => {
    it('gives a lone thread mm_cid 0 on whatever CPU it runs', async () => {
      const r = runClosed(await inline(READ_CID), { cpus: 3, threads: [{ entry: 'cid', cpu: 2 }] });
      assert.deepEqual(r.outcome.threads[0]!.returns, [0n]);
    });

    it('gives threads of one process running at the same time on different CPUs different ids, compact from 0', async () => {
      const r = runClosed(await inline(READ_CID), { cpus: 4, threads: [{ entry: 'cid', cpu: 3 }, { entry: 'cid', cpu: 1 }] }, { schedule: 'c3:1 c1:3 c3:2' });
      assert.deepEqual(r.outcome.threads.map((t) => t.returns[0]), [0n, 1n]);
    });

    it('reuses the id of a thread that has exited', async () => {
      // Without an overlap, T2 (CPU 1) exits before T1 (CPU 3) starts and gives id 0 back.
      const r = runClosed(await inline(READ_CID), { cpus: 4, threads: [{ entry: 'cid', cpu: 3 }, { entry: 'cid', cpu: 1 }] });
      assert.deepEqual(r.outcome.threads.map((t) => t.returns[0]), [0n, 0n]);
    });

    it('keeps a lone thread\'s id as it migrates, and publishes the new cpu_id with it', async () => {
      const r = runThreads(await inline(READ_CID), { cpus: 3, threads: [{ entry: 'cid', cpu: 2, repeat: 2 }] }, { schedule: 'c2:3 T1:migrate:0' });
      try {
        assert.deepEqual(r.outcome.threads[0]!.returns, [0n, 0n]);
        assert.equal(areaOf(r.machine, r.tids[0]!).cpuId, 0);
      } finally {
        r.machine.close();
      }
    });

    it('records, for each call, every (cpu_id, node_id, mm_cid) it could observe', async () => {
      // T2 takes CPU 0's id (0); T1 starts on CPU 1 (id 1) and migrates to CPU 0 mid-call, where
      // it gets CPU 0's id once T2 has gone.
      const r = runClosed(await inline(READ_CID), { cpus: 2, threads: [{ entry: 'cid', cpu: 1 }, { entry: 'cid', cpu: 0 }] }, { schedule: 'c0:1 c1:1 T1:migrate:0' });
      assert.deepEqual(r.outcome.threads[0]!.callIds, [[{ cpu: 1, node: 0, mmCid: 1 }, { cpu: 0, node: 0, mmCid: 0 }]]);
      assert.deepEqual(r.outcome.threads[0]!.returns, [0n]);
    });

    it('records a move the rseq area does not show yet as the new CPU with the last published id', async () => {
      // Unregistered, the thread sees its CPU only through getcpu: the move itself is what it may observe.
      const r = runClosed(await inline(READ_CID), { cpus: 2, registration: 'none', threads: [{ entry: 'cid', cpu: 1 }] }, { schedule: 'c1:1 T1:migrate:0' });
      assert.deepEqual(r.outcome.threads[0]!.callIds, [[{ cpu: 1, node: 0, mmCid: 0 }, { cpu: 0, node: 0, mmCid: 0 }]]);
    });

    it('lets a spawner fix a thread\'s id, as the oracle\'s serial replays do', async () => {
      const { machine } = boot(await inline(READ_CID), { cpus: 3, threads: [] });
      try {
        const out = machine.call(address(machine.image, 'cid'), [], { cpu: 2, mmCid: 1 });
        assert.equal(out.rax, 1n);
      } finally {
        machine.close();
      }
    });

    it('restores the ids every CPU holds with a snapshot', async () => {
      const { machine } = boot(await inline(READ_CID), { cpus: 3, threads: [{ entry: 'cid', cpu: 1 }, { entry: 'cid', cpu: 2 }] });
      try {
        machine.begin();
        machine.step(parseSchedule('c1:1')[0]!); // T1 takes id 0 on CPU 1
        const mid = machine.capture();
        for (const item of parseSchedule('T1:migrate:0 c2:1')) machine.step(item); // it carries id 0 to CPU 0; T2 takes 1 on CPU 2
        assert.notDeepEqual(machine.capture().processes[0]!.cids, mid.processes[0]!.cids);
        machine.restore(mid);
        assert.deepEqual(machine.capture().processes[0]!.cids, mid.processes[0]!.cids);
      } finally {
        machine.close();
      }
    });
  });
});

// Where threads' stacks and TLS and the named regions go, and how few Unicorn mappings hold them:
// Unicorn's per-mapping cost grows with the square of the mappings, so the layout must keep their
// number logarithmic in threads and regions while overruns still fault where they did.
import { strict as assert } from 'node:assert';
import { Machine } from '../../src/kernel/machine.js';
import { SHARED_MEMORY_END, STACK_SIZE, THREAD_SLOT_SIZE, fsBaseOf, stackTopOf, threadChunk } from '../../src/kernel/address-space.js';
import { GUARDED_REGIONS, layoutRegions } from '../../src/kernel/region-layout.js';
import { address, inline } from '../support/program.js';

const finish = (m: Machine) => {
  m.begin();
  while (m.step(null));
  return m.result();
};

describe('address layout', () => {
  describe('thread stacks and TLS', () => {
    it('gives every thread id up to 100,000 a slot inside its chunk, above the shared memory, no two chunks overlapping', () => {
      let below = 1n << 64n;
      let chunks = 0;
      for (let tid = 1; tid <= 100_000; tid++) {
        const c = threadChunk(tid);
        assert.ok(c.slot >= c.base && c.slot + THREAD_SLOT_SIZE <= c.base + c.size, `tid ${tid}`);
        assert.ok(c.base >= SHARED_MEMORY_END, `tid ${tid}`);
        if (c.base + c.size <= below) {
          if (c.base + c.size === below) assert.fail(`chunk of tid ${tid} touches the one above`);
          below = c.base;
          chunks++;
        } else assert.equal(c.base, below, `tid ${tid} is in neither its chunk nor a new one below`);
      }
      assert.ok(chunks < 1600, `${chunks} chunks`);
    });

    it('puts the TLS block right above the stack top, FS base one page into it', () => {
      for (const tid of [1, 2, 3, 200]) {
        assert.equal(fsBaseOf(tid), stackTopOf(tid) + 0x1000n);
        assert.equal(stackTopOf(tid), threadChunk(tid).slot + STACK_SIZE);
      }
    });

    it('maps the memory of 500 threads in at most 20 mappings', async () => {
      const image = await inline('f: ret\n');
      const m = Machine.create(image, { cpus: 2 });
      const before = m.emu.regions().length;
      for (let i = 0; i < 500; i++) m.spawn({ entry: address(image, 'f'), args: [], cpu: i % 2 });
      const added = m.emu.regions().length - before;
      m.close();
      assert.ok(added <= 20, `${added} mappings`);
    });

    it('ends a thread that overflows its stack with SIGSEGV on unmapped memory', async () => {
      const image = await inline('f: pushq %rax\n jmp f\n');
      const m = Machine.create(image, { cpus: 1, maxInstructions: 100_000 });
      m.spawn({ entry: address(image, 'f'), args: [], cpu: 0 });
      const r = finish(m);
      m.close();
      assert.equal(r.threads[0]!.end?.status, 'fault');
      assert.equal(r.threads[0]!.end?.signal, 'SIGSEGV');
      assert.ok(r.threads[0]!.end?.faultAddress! < stackTopOf(1) - STACK_SIZE);
    });

    it('maps threads 1 to 8 alone, so a small run maps no more than its threads use', () => {
      for (let tid = 1; tid <= 8; tid++) assert.equal(threadChunk(tid).size, THREAD_SLOT_SIZE, `tid ${tid}`);
      assert.equal(threadChunk(9).size, 8n * THREAD_SLOT_SIZE);
    });

    it('gives a thread spawned after others ran a zeroed stack and TLS, even where an earlier thread wrote', async () => {
      // Thread 9 dirties the slot thread 10 will get, in the chunk they share.
      const image = await inline('f: testq %rdi, %rdi\n jz 1f\n movq $-1, (%rdi)\n movq $-1, (%rsi)\n1: ret\n');
      const m = Machine.create(image, { cpus: 1 });
      for (let i = 1; i < 9; i++) m.spawn({ entry: address(image, 'f'), args: [], cpu: 0 });
      const first = m.spawn({ entry: address(image, 'f'), args: [fsBaseOf(10) + 8n, stackTopOf(10) - 64n], cpu: 0 });
      finish(m);
      const t = m.spawn({ entry: address(image, 'f'), args: [], cpu: 0 });
      const tls = m.emu.readU64(t.fsBase + 8n);
      const stack = m.emu.readU64(t.stackTop - 64n);
      m.close();
      assert.equal(t.tid, 10);
      assert.equal(threadChunk(t.tid).base, threadChunk(first.tid).base);
      assert.equal(tls, 0n);
      assert.equal(stack, 0n);
    });
  });

  describe('named regions', () => {
    it('places regions one page apart whatever the batch, so addresses do not depend on how they are mapped', () => {
      const sizes = Array.from({ length: 100 }, (_, i) => 1 + i * 1000);
      const all = layoutRegions(0x1000000n, 0, sizes).placements.map((p) => p.address);
      let at = 0x1000000n;
      const oneByOne = sizes.map((size, i) => {
        const l = layoutRegions(at, i, [size]);
        at = l.next;
        return l.placements[0]!.address;
      });
      assert.deepEqual(all, oneByOne);
      assert.equal(all[1]! - all[0]!, 0x2000n);
    });

    it(`maps each of the first ${GUARDED_REGIONS} regions alone, then doubling chunks: 1,000 regions in at most ${GUARDED_REGIONS + 6} mappings`, () => {
      const l = layoutRegions(0x1000000n, 0, Array.from({ length: 1000 }, () => 4096));
      assert.ok(l.mappings.length <= GUARDED_REGIONS + 6, `${l.mappings.length}`);
      l.placements.slice(0, GUARDED_REGIONS).forEach((p, i) => assert.deepEqual(l.mappings[i], { begin: p.address, end: p.address + p.mapped }));
    });

    it('faults on a store one byte past a guarded region', async () => {
      const image = await inline('f: movb $1, (%rdi)\n ret\n');
      const m = Machine.create(image, { cpus: 1 });
      const [a, b] = m.allocateAll([{ name: 'a', size: 8 }, { name: 'b', size: 8 }]);
      m.spawn({ entry: address(image, 'f'), args: [a! + 0x1000n], cpu: 0 });
      const r = finish(m);
      m.close();
      assert.equal(b! - a!, 0x2000n);
      assert.equal(r.threads[0]!.end?.signal, 'SIGSEGV');
    });
  });
});

// Split read-modify-writes (kernel/split-rmw.ts): which instructions have a load and a store another
// CPU can come between, and what `Tn:load` does to a run — the lost update real hardware allows.
import { strict as assert } from 'node:assert';
import { loadCapstone } from '../../src/asm/capstone.js';
import { RseqEmuError } from '../../src/errors.js';
import { formatSchedule, parseSchedule } from '../../src/kernel/schedule.js';
import { decodeRmw } from '../../src/kernel/split-rmw.js';
import { imageBytes } from '../../src/asm/image.js';
import { fileURLToPath } from 'node:url';
import { loadProgram } from '../../src/program.js';
import { bundled, inline } from '../support/program.js';
import { boot, runClosed } from '../support/threads.js';

const usageError = (pattern: RegExp) => (e: unknown) => e instanceof RseqEmuError && e.code === 'USAGE' && pattern.test(e.message);

/** Shape of the one instruction in `text`, or null. */
async function shape(text: string) {
  await loadCapstone();
  const image = await inline(`f:\n ${text}\n`);
  const line = image.lines.find((l) => l.kind === 'instruction')!;
  return decodeRmw(imageBytes(image, line.address, line.size)!, line.address);
}

const SHARED_COUNTER = fileURLToPath(new URL('../explore/fixtures/shared_counter.s', import.meta.url));

// Two threads that add to one shared counter: T1 (cpu 0) adds 1 and T2 (cpu 1) adds 10.
const ADDERS = (source = SHARED_COUNTER, entry = 'shared_add') => ({
  source,
  setup: {
    regions: [{ name: 'counter', size: 16 }],
    threads: [
      { entry, args: ['counter', 1n], cpu: 0 },
      { entry, args: ['counter', 10n], cpu: 1 },
    ],
  },
});

describe('split read-modify-writes', () => {
  describe('which instructions split', () => {
    const split: [string, number][] = [
      ['addq %rax, (%rdi)', 8], ['subl $1, 4(%rdi,%rcx,8)', 4], ['incb (%rdi)', 1], ['notw (%rdi)', 2], ['negq 8(%rdi)', 8],
      ['andq %rax, (%rdi)', 8], ['orq $1, (%rdi)', 8], ['xorq %rax, (%rdi)', 8], ['adcq $1, (%rdi)', 8], ['sbbq %rax, (%rdi)', 8],
      ['shlq $3, (%rdi)', 8], ['sarw %cl, (%rdi)', 2], ['rolq $1, (%rdi)', 8], ['shldq $2, %rax, (%rdi)', 8], ['btsq $3, (%rdi)', 8],
      ['cmpxchgq %rsi, (%rdi)', 8], ['xaddl %eax, (%rdi)', 4], ['cmpxchg16b (%rdi)', 16], ['movsq', 8], ['rep movsb', 1],
    ];
    for (const [text, size] of split) {
      it(`splits ${text} (${size} bytes)`, async () => {
        assert.equal((await shape(text))?.size, size);
      });
    }
    const whole = ['lock addq %rax, (%rdi)', 'lock cmpxchgq %rsi, (%rdi)', 'xchgq %rax, (%rdi)', 'addq (%rdi), %rax', 'movq %rax, (%rdi)', 'rep stosq', 'btsq %rax, (%rdi)', 'orq $1, %fs:8', 'addq %rax, %rbx'];
    for (const text of whole) {
      it(`leaves ${text} whole`, async () => {
        assert.equal(await shape(text), null);
      });
    }

    it('movs loads from (%rsi) and stores to (%rdi)', async () => {
      const s = (await shape('movsq'))!;
      assert.equal(s.read.base, 'rsi');
      assert.equal(s.write.base, 'rdi');
    });
  });

  describe('Tn:load in a run', () => {
    it('without it, two CPUs adding with addq never lose an update', async () => {
      const { source, setup } = ADDERS();
      for (const schedule of ['c0:* c1:*', 'c1:* c0:*', 'c0:0 c1:* c0:*']) {
        assert.equal(runClosed(await loadProgram(source), setup, { schedule }).memory.counter![0], 11n, schedule);
      }
    });

    it('with it, the other CPU runs between the load and the store, and its update is lost', async () => {
      const { source, setup } = ADDERS();
      const r = runClosed(await loadProgram(source), setup, { schedule: 'T1:load c1:* c0:*' });
      assert.equal(r.memory.counter![0], 1n);
      assert.equal(r.outcome.status, 'completed');
    });

    it('records the load in the executed schedule, which replays to the same memory', async () => {
      const { source, setup } = ADDERS();
      const image = await loadProgram(source);
      const first = runClosed(image, setup, { schedule: 'T2:load c0:*' });
      assert.match(first.outcome.schedule, /^T2:load c0:\d+ c1:\d+$/);
      const again = runClosed(image, setup, { schedule: first.outcome.schedule });
      assert.equal(again.outcome.schedule, first.outcome.schedule);
      assert.deepEqual(again.memory, first.memory);
      assert.equal(first.memory.counter![0], 10n);
    });

    it('the store half is the thread\'s next instruction: c0:1 runs it and no more', async () => {
      const { source, setup } = ADDERS();
      const { machine, tids } = boot(await loadProgram(source), setup);
      try {
        machine.begin();
        for (const item of parseSchedule('T1:load c1:* c0:1')) machine.step(item);
        assert.equal(machine.emu.read(machine.regions.get('counter')!.address, 1)[0], 1);
        assert.equal(machine.result().threads.find((t) => t.tid === tids[0])!.instructions, 1);
      } finally {
        machine.close();
      }
    });

    it('cmpxchg compares with the loaded value and overwrites the store that came in between', async () => {
      const image = await inline(`
        .globl cas, put
        cas: movq $0, %rax
             cmpxchgq %rsi, (%rdi)
             ret
        put: movq %rsi, (%rdi)
             ret
      `);
      const setup = { regions: [{ name: 'v', size: 8 }], threads: [{ entry: 'cas', args: ['v', 5n], cpu: 0 }, { entry: 'put', args: ['v', 7n], cpu: 1 }] };
      assert.equal(runClosed(image, setup, { schedule: 'c0:1 c1:* c0:*' }).memory.v![0], 7n, 'whole: the compare sees 7 and fails');
      assert.equal(runClosed(image, setup, { schedule: 'c0:1 T1:load c1:* c0:*' }).memory.v![0], 5n, 'split: it compared with the 0 it loaded');
    });

    it('movs stores the source bytes it loaded, and leaves the source as the other CPU wrote it', async () => {
      const image = await inline(`
        .globl copy, put
        copy: movq %rdi, %rsi
              leaq 8(%rdi), %rdi
              movsq
              ret
        put: movq %rsi, (%rdi)
             ret
      `);
      const setup = { regions: [{ name: 'v', size: 16, words: [3n, 0n] }], threads: [{ entry: 'copy', args: ['v'], cpu: 0 }, { entry: 'put', args: ['v', 9n], cpu: 1 }] };
      assert.deepEqual(runClosed(image, setup, { schedule: 'c0:2 T1:load c1:* c0:*' }).memory.v, [9n, 3n]);
    });

    it('a snapshot taken between the load and the store restores the loaded bytes too', async () => {
      const { source, setup } = ADDERS();
      const { machine } = boot(await loadProgram(source), setup);
      try {
        machine.begin();
        machine.step(parseSchedule('T1:load')[0]!);
        const mid = machine.capture();
        const finish = () => {
          while (machine.step(null));
          return machine.emu.read(machine.regions.get('counter')!.address, 1)[0];
        };
        assert.equal(finish(), 1);
        machine.restore(mid);
        assert.equal(finish(), 1);
      } finally {
        machine.close();
      }
    });

    it('refuses an event for a thread between its load and its store', async () => {
      const { source, setup } = ADDERS();
      const image = await loadProgram(source);
      assert.throws(() => runClosed(image, setup, { schedule: 'T1:load T1:preempt' }), usageError(/'T1:preempt': T1 is between the load and the store/));
    });

    it('refuses a load where the next instruction is no read-modify-write', async () => {
      const { setup } = ADDERS();
      const image = await bundled('counter_add.s');
      const s = { ...setup, threads: setup.threads.map((t) => ({ ...t, entry: 'counter_add', args: ['counter', 1n] })) };
      assert.throws(() => runClosed(image, s, { schedule: 'T1:load' }), usageError(/T1 cannot split: its next instruction is not a read-modify-write/));
    });

    it('prints and parses Tn:load', () => {
      const text = 'c0:2 T1:load c1:0 c0:*';
      assert.equal(formatSchedule(parseSchedule(text)), text);
      assert.deepEqual(parseSchedule('T3:load'), [{ kind: 'load', tid: 3 }]);
    });
  });
});

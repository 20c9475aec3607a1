// Snapshots that copy and rewind only what changed (issue 14 item 2): a rewind writes the pages
// written since, guest stores and host writes alike, and leaves every mapped byte as captured.
import { strict as assert } from 'node:assert';
import { Emulator, Prot } from '../../src/engine/index.js';
import { PageTracker } from '../../src/engine/page-tracker.js';
import { Machine } from '../../src/kernel/machine.js';
import { copyMemory, lastRestoredPages, restoreMemory, trackMemory } from '../../src/kernel/memory-snapshot.js';
import { address, bundled } from '../support/program.js';

/** Every mapped byte of an emulator, region by region. */
const everything = (emu: Emulator) => emu.regions().map((r) => [r.begin, Buffer.from(emu.read(r.begin, Number(r.end - r.begin))).toString('hex')]);

async function counterMachine() {
  const image = await bundled('counter_add.s');
  const m = Machine.create(image, { cpus: 2 });
  const counters = m.allocate('counters', 16);
  m.spawn({ entry: address(image, 'counter_add'), args: [counters, 1n], cpu: 0 });
  m.spawn({ entry: address(image, 'counter_add'), args: [counters, 10n], cpu: 1 });
  return { m, counters };
}

describe('page snapshots', () => {
  it('the tracker reports the pages a guest store and a host write touched, each once', () => {
    const emu = Emulator.create();
    try {
      emu.map(0x10000n, 0x4000, Prot.RWX);
      const tracker = new PageTracker(emu);
      // movq %rax, 0x11ff8 (8 bytes within one page); movl %eax, 0x12ffe (crosses into the next)
      emu.write(0x10000n, Uint8Array.of(0x48, 0x89, 0x04, 0x25, 0xf8, 0x1f, 0x01, 0x00, 0x89, 0x04, 0x25, 0xfe, 0x2f, 0x01, 0x00));
      tracker.take();
      emu.run(0x10000n, { count: 2 });
      assert.deepEqual([...tracker.take().pages].sort(), [0x11000n, 0x12000n, 0x13000n]);
      emu.write(0x10ffen, Uint8Array.of(1, 2, 3, 4));
      assert.deepEqual([...tracker.take().pages].sort(), [0x10000n, 0x11000n]);
      assert.equal(tracker.take().pages.size, 0);
    } finally {
      emu.close();
    }
  });

  it('a rewind after a few instructions writes a few pages, not every mapped one, and restores every byte', async () => {
    const { m } = await counterMachine();
    try {
      m.begin();
      m.step({ kind: 'run', cpu: 0, count: 3 });
      const snap = m.capture();
      const want = everything(m.emu);
      m.step({ kind: 'run', cpu: 0, count: 20 });
      m.step({ kind: 'run', cpu: 1, count: 20 });
      m.restore(snap);
      assert.deepEqual(everything(m.emu), want);
      const mapped = snap.processes[0]!.memory.pages.size;
      assert.ok(lastRestoredPages(m.emu) > 0 && lastRestoredPages(m.emu) <= 6, `${lastRestoredPages(m.emu)} of ${mapped} pages written`);
      assert.ok(mapped > 30);
    } finally {
      m.close();
    }
  });

  it('rewinds host writes (the kernel model\'s, a debugger\'s) too', async () => {
    const { m, counters } = await counterMachine();
    try {
      const snap = m.capture();
      m.emu.write(counters, Uint8Array.of(9, 9, 9));
      m.restore(snap);
      assert.deepEqual([...m.emu.read(counters, 3)], [0, 0, 0]);
    } finally {
      m.close();
    }
  });

  it('a capture shares every unchanged page with the capture before it', async () => {
    const { m } = await counterMachine();
    try {
      m.begin();
      const a = m.capture().processes[0]!.memory;
      m.step({ kind: 'run', cpu: 0, count: 3 });
      const b = m.capture().processes[0]!.memory;
      const changed = [...b.pages].filter(([at, page]) => a.pages.get(at) !== page).map(([at]) => at);
      assert.ok(changed.length >= 1 && changed.length <= 3, `${changed.length} pages copied again`);
    } finally {
      m.close();
    }
  });

  it('a rewind to an older copy writes back the pages that copy holds otherwise, and none when nothing changed since', () => {
    const emu = Emulator.create();
    try {
      emu.map(0x10000n, 0x4000, Prot.RW);
      trackMemory(emu);
      const old = copyMemory(emu);
      emu.write(0x11000n, Uint8Array.of(1));
      emu.write(0x13000n, Uint8Array.of(3));
      copyMemory(emu); // the pages written are in this copy, no longer "written since"
      restoreMemory(emu, old);
      assert.equal(lastRestoredPages(emu), 2);
      assert.deepEqual([emu.read(0x11000n, 1)[0], emu.read(0x13000n, 1)[0]], [0, 0]);
      restoreMemory(emu, old);
      assert.equal(lastRestoredPages(emu), 0);
      emu.write(0x12000n, Uint8Array.of(2));
      restoreMemory(emu, old);
      assert.equal(lastRestoredPages(emu), 1);
      assert.equal(emu.read(0x12000n, 1)[0], 0);
    } finally {
      emu.close();
    }
  });

  it('a rewind across a change of mappings maps and unmaps as the snapshot had them', () => {
    const emu = Emulator.create();
    try {
      emu.map(0x10000n, 0x2000, Prot.RW);
      trackMemory(emu);
      emu.write(0x10000n, Uint8Array.of(7));
      const snap = copyMemory(emu);
      emu.map(0x40000n, 0x1000, Prot.RW);
      emu.unmap(0x11000n, 0x1000);
      emu.write(0x10000n, Uint8Array.of(8));
      restoreMemory(emu, snap);
      assert.deepEqual(emu.regions().map((r) => [r.begin, r.end]), [[0x10000n, 0x12000n]]);
      assert.equal(emu.read(0x10000n, 1)[0], 7);
    } finally {
      emu.close();
    }
  });
});

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { equalBesides, probeRegisterBlock, registerBlock, savedRegister } from '../../src/engine/context-layout.js';
import { X86_REGISTERS, type SavedContext } from '../../src/engine/index.js';
import { useEmulator } from './fixture.js';

describe('engine: where a saved context keeps the registers', () => {
  const emu = useEmulator();
  const exported = (): Uint8Array => {
    const c = emu().saveContext();
    try {
      return emu().exportContext(c);
    } finally {
      emu().freeContext(c);
    }
  };

  it('refuses a first probe from inside a hook, where putting the registers back would run the instruction again (a fresh process)', () => {
    const script = `
      import { bundledScenario } from './test/explore/fixtures.ts';
      import { instantiate } from './src/scenario/setup.ts';
      import { registerBlock } from './src/engine/context-layout.ts';
      const { scenario, image } = await bundledScenario('spinlock.json');
      const m = instantiate(image, scenario);
      const emu = m.processes[0].emu;
      emu.onMemoryWrite(0n, 0x7fffffffn, () => void registerBlock(emu));
      m.begin();
      try {
        for (let i = 0; i < 12; i++) m.step({ kind: 'run', cpu: 0, count: 1 });
        console.log('no error');
      } catch (e) {
        console.log(e.message);
      }`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../../', import.meta.url)), encoding: 'utf8' });
    assert.match(out, /register block is probed outside a run/);
  });

  it('finds the block of the general registers, RIP and the flags by probing', () => {
    const block = registerBlock(emu());
    assert.ok(block !== null);
    assert.equal(block.end - block.begin, 176);
  });

  it('leaves the registers as they were after probing', () => {
    emu().setReg('rax', 7n);
    emu().setReg('rip', 0x1000n);
    probeRegisterBlock(emu());
    assert.deepEqual([emu().reg('rax'), emu().reg('rip')], [7n, 0x1000n]);
  });

  it('keeps every general register, RIP and the flags inside the block', () => {
    const block = registerBlock(emu())!;
    const before = exported();
    for (const name of X86_REGISTERS.filter((n) => n !== 'fs_base' && n !== 'gs_base')) emu().setReg(name, name === 'eflags' ? 0x8d7n : 0x5a5a_0000n);
    assert.ok(equalBesides(before, exported(), block));
  });

  it('reads each general register and RIP of a saved context in place, as the register API wrote them', () => {
    const names = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'] as const;
    names.forEach((name, i) => emu().setReg(name, 0x1000n * BigInt(i + 1) + 0xabn));
    const c = emu().saveContext();
    try {
      assert.deepEqual(names.map((name) => savedRegister(emu(), c, name)), names.map((_, i) => 0x1000n * BigInt(i + 1) + 0xabn));
    } finally {
      emu().freeContext(c);
    }
  });

  it('tells contexts apart that differ outside the block', () => {
    const block = registerBlock(emu())!;
    const before = exported();
    emu().setReg('fs_base', 0x7000_0000n);
    assert.ok(!equalBesides(before, exported(), block));
  });
});

describe('engine: exported contexts', () => {
  const emu = useEmulator();
  /** Runs `body` with `n` contexts saved from the live registers, freed afterwards. */
  const withContexts = (n: number, body: (...contexts: SavedContext[]) => void): void => {
    const contexts = Array.from({ length: n }, () => emu().saveContext());
    try {
      body(...contexts);
    } finally {
      for (const c of contexts) emu().freeContext(c);
    }
  };

  it('are the same bytes, not a new copy, while the context has not changed', () => {
    withContexts(1, (c) => assert.equal(emu().exportContext(c), emu().exportContext(c)));
  });

  it('are new bytes once the context changed, and the bytes exported before stay as they were', () => {
    withContexts(1, (c) => {
      const before = emu().exportContext(c);
      const copy = before.slice();
      emu().setReg('rax', 0x1234_5678n);
      emu().saveContext(c);
      const after = emu().exportContext(c);
      assert.notEqual(after, before);
      assert.deepEqual(before, copy);
      assert.notDeepEqual(after, copy);
    });
  });

  it('are the same bytes when an unchanged context is saved into again', () => {
    withContexts(1, (c) => {
      const before = emu().exportContext(c);
      emu().saveContext(c);
      assert.equal(emu().exportContext(c), before);
    });
  });

  it('are new bytes when a context written from bytes is then saved into with other registers', () => {
    withContexts(2, (c, d) => {
      emu().writeContext(c, emu().exportContext(d));
      emu().setReg('rdx', 0xfeedn);
      emu().saveContext(c);
      emu().restoreContext(c);
      assert.equal(emu().reg('rdx'), 0xfeedn);
      assert.notDeepEqual(emu().exportContext(c), emu().exportContext(d));
    });
  });

  it('each keep their own bytes, however many are exported after them', () => {
    withContexts(1, (c) => {
      const exports: [bigint, Uint8Array][] = [];
      for (let i = 1n; i <= 40n; i++) {
        emu().setReg('rax', i);
        emu().saveContext(c);
        exports.push([i, emu().exportContext(c)]);
      }
      for (const [i, bytes] of exports) {
        const d = emu().importContext(bytes);
        emu().restoreContext(d);
        emu().freeContext(d);
        assert.equal(emu().reg('rax'), i);
      }
    });
  });

  it('are the bytes a context was last written from', () => {
    withContexts(2, (c, d) => {
      emu().setReg('rbx', 99n);
      emu().saveContext(d);
      const bytes = emu().exportContext(d);
      emu().writeContext(c, bytes);
      assert.equal(emu().exportContext(c), bytes);
    });
  });
});

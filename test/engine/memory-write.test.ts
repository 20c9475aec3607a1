// The memory-write hook: what it reports, and where it applies.
import { strict as assert } from 'node:assert';
import type { Emulator } from '../../src/engine/index.js';
import { CODE, DATA, X86, useEmulator } from './fixture.js';

describe('memory-write hooks', () => {
  const emu = useEmulator();
  const program = [...X86.STORE_RCX_TO_RBX, ...X86.INC_RAX];

  it('reports each store in its range with address, size and value, before memory changes', () => {
    emu().write(CODE, Uint8Array.from(program));
    emu().setReg('rbx', DATA + 8n);
    emu().setReg('rcx', 0x1122n);
    const seen: [bigint, number, bigint, bigint][] = [];
    emu().onMemoryWrite(DATA, DATA + 0x1000n, (address, size, value) => seen.push([address, size, value, emu().readU64(DATA + 8n)]));
    emu().run(CODE, { count: 2 });
    assert.deepEqual(seen, [[DATA + 8n, 8, 0x1122n, 0n]]);
    assert.equal(emu().readU64(DATA + 8n), 0x1122n);
  });

  it('ignores stores outside its range', () => {
    emu().write(CODE, Uint8Array.from(program));
    emu().setReg('rbx', DATA + 8n);
    let calls = 0;
    emu().onMemoryWrite(DATA + 0x10n, DATA + 0x20n, () => calls++);
    emu().run(CODE, { count: 2 });
    assert.equal(calls, 0);
  });

  it('calls every listener whose range holds the store, in the order they were added', () => {
    emu().write(CODE, Uint8Array.from(program));
    emu().setReg('rbx', DATA + 8n);
    const order: string[] = [];
    emu().onMemoryWrite(DATA, DATA + 0x10n, () => order.push('first'));
    emu().onMemoryWrite(DATA + 0x10n, DATA + 0x20n, () => order.push('elsewhere'));
    emu().onMemoryWrite(0n, 1n << 64n, () => order.push('everywhere'));
    emu().run(CODE, { count: 2 });
    assert.deepEqual(order, ['first', 'everywhere']);
  });

  it('reaches code translated before it was added', () => {
    emu().write(CODE, Uint8Array.from(program));
    emu().setReg('rbx', DATA + 8n);
    emu().run(CODE, { count: 2 });
    const seen: bigint[] = [];
    emu().onMemoryWrite(DATA, DATA + 0x10n, (address) => seen.push(address));
    emu().run(CODE, { count: 2 });
    assert.deepEqual(seen, [DATA + 8n]);
  });

  it('stops calling a removed listener, and only that one', () => {
    emu().write(CODE, Uint8Array.from(program));
    emu().setReg('rbx', DATA + 8n);
    const calls = { kept: 0, removed: 0 };
    const hook = emu().onMemoryWrite(DATA, DATA + 0x10n, () => calls.removed++);
    emu().onMemoryWrite(DATA, DATA + 0x10n, () => calls.kept++);
    emu().removeHook(hook);
    emu().run(CODE, { count: 2 });
    assert.deepEqual(calls, { kept: 1, removed: 0 });
    assert.throws(() => emu().removeHook(hook), /not a hook of this emulator/);
  });

  it('does not call a listener that an earlier listener removed for the same store', () => {
    emu().write(CODE, Uint8Array.from(program));
    emu().setReg('rbx', DATA + 8n);
    let later = 0;
    let hook: ReturnType<Emulator['onMemoryWrite']> | undefined;
    emu().onMemoryWrite(DATA, DATA + 0x10n, () => emu().removeHook(hook!));
    hook = emu().onMemoryWrite(DATA, DATA + 0x10n, () => later++);
    emu().run(CODE, { count: 2 });
    assert.equal(later, 0);
  });
});

import { strict as assert } from 'node:assert';
import { Prot } from '../../src/engine/index.js';
import { registeredCallbackCount } from '../../src/engine/unicorn-library.js';
import { CODE, PAGE, X86, incs, loadCode, runError, useEmulator } from './fixture.js';

describe('engine: hooks', () => {
  const emu = useEmulator();

  it('calls a code hook with the address and size of each instruction in [begin, end)', () => {
    loadCode(emu(), [...X86.INC_RAX, ...X86.ADD_RAX_16, ...X86.INC_RAX, ...X86.HLT]);
    const seen: [bigint, number][] = [];
    emu().onCode(CODE, CODE + 7n, (address, size) => seen.push([address, size]));
    emu().run(CODE);
    assert.deepEqual(seen, [[CODE, 3], [CODE + 3n, 4]]);
  });

  it('rejects a code hook over an empty range', () => {
    assert.throws(() => emu().onCode(CODE, CODE, () => {}), /empty range/);
  });

  it('fires a code hook added after a first run over the same code', () => {
    loadCode(emu(), [...incs(3), ...X86.HLT]);
    emu().run(CODE);
    const seen: bigint[] = [];
    emu().onCode(CODE + 3n, CODE + 4n, (address) => seen.push(address));
    emu().run(CODE);
    assert.deepEqual(seen, [CODE + 3n]);
  });

  it('fires a syscall hook added after a first run over the same code', () => {
    loadCode(emu(), [...X86.SYSCALL, ...X86.HLT]);
    emu().run(CODE);
    let calls = 0;
    emu().onSyscall(() => calls++);
    emu().run(CODE);
    assert.equal(calls, 1);
  });

  it('stops calling a removed code hook, even on code translated while it existed', () => {
    loadCode(emu(), [...incs(3), ...X86.HLT]);
    let calls = 0;
    const hook = emu().onCode(CODE, CODE + 9n, () => calls++);
    emu().run(CODE);
    emu().removeHook(hook);
    emu().run(CODE);
    assert.equal(calls, 3);
  });

  it('stops calling a hook removed from inside its own callback for the rest of the run', () => {
    loadCode(emu(), [...incs(3), ...X86.HLT]);
    let calls = 0;
    const hook = emu().onCode(CODE, CODE + 9n, () => {
      calls++;
      emu().removeHook(hook);
    });
    emu().run(CODE);
    assert.equal(calls, 1);
    assert.equal(emu().reg('rax'), 3n);
  });

  it('rejects removing a hook twice', () => {
    const hook = emu().onSyscall(() => {});
    emu().removeHook(hook);
    assert.throws(() => emu().removeHook(hook), /not a hook of this emulator/);
  });

  it('releases the callback of a removed hook', () => {
    const before = registeredCallbackCount();
    emu().removeHook(emu().onCode(CODE, CODE + 1n, () => {}));
    assert.equal(registeredCallbackCount(), before);
  });

  it('applies a code hook added inside a callback at once, within the block already running', () => {
    loadCode(emu(), [...incs(3), ...X86.HLT]);
    const late: bigint[] = [];
    emu().onCode(CODE, CODE + 1n, () => {
      emu().onCode(CODE + 6n, CODE + 7n, (address) => late.push(address));
    });
    emu().run(CODE);
    assert.deepEqual(late, [CODE + 6n]);
  });

  it('continues at the saved RIP when a hook restores a context', () => {
    loadCode(emu(), [...incs(4), ...X86.HLT]);
    emu().setReg('rip', CODE + 9n);
    emu().setReg('rax', 100n);
    const saved = emu().saveContext();
    const executed: bigint[] = [];
    emu().onCode(CODE, CODE + 12n, (address) => {
      executed.push(address);
      if (address === CODE + 3n) emu().restoreContext(saved);
    });
    emu().setReg('rax', 0n);
    emu().run(CODE);
    assert.deepEqual(executed, [CODE, CODE + 3n, CODE + 9n]);
    assert.equal(emu().reg('rax'), 101n);
  });

  it('stops at the instruction whose hook threw, and rethrows that exception from run()', () => {
    loadCode(emu(), [...incs(5), ...X86.HLT]);
    const boom = new Error('boom');
    let calls = 0;
    emu().onCode(CODE, CODE + 15n, (address) => {
      calls++;
      if (address === CODE + 6n) throw boom;
    });
    assert.equal(runError(emu(), CODE), boom);
    assert.equal(calls, 3);
    assert.equal(emu().reg('rax'), 2n);
    assert.equal(emu().reg('rip'), CODE + 6n);
  });

  it('rethrows an exception from an invalid-memory hook instead of the memory error', () => {
    loadCode(emu(), X86.LOAD_RAX_FROM_RBX);
    emu().setReg('rbx', 0x5_0000n);
    emu().onInvalidMemory(() => {
      throw new TypeError('hook bug');
    });
    assert.throws(() => emu().run(CODE), TypeError);
  });

  it('runs normally again after a callback threw', () => {
    loadCode(emu(), [...incs(2), ...X86.HLT]);
    let fail = true;
    emu().onCode(CODE, CODE + 1n, () => {
      if (fail) throw new Error('once');
    });
    assert.throws(() => emu().run(CODE), /once/);
    fail = false;
    emu().run(CODE);
    assert.equal(emu().reg('rax'), 2n);
  });

  it('refuses run(), close() and flushTranslations() from inside a callback', () => {
    loadCode(emu(), [...X86.INC_RAX, ...X86.HLT]);
    for (const call of [() => emu().run(CODE), () => emu().close(), () => emu().flushTranslations()]) {
      const hook = emu().onCode(CODE, CODE + 1n, call);
      assert.throws(() => emu().run(CODE), /from inside a hook/);
      emu().removeHook(hook);
    }
  });

  it('retries an access after the invalid-memory hook maps the page and returns true', () => {
    loadCode(emu(), X86.LOAD_RAX_FROM_RBX);
    emu().setReg('rbx', 0x5_0008n);
    emu().onInvalidMemory((_access, _cause, address) => {
      emu().map(address & ~0xfffn, PAGE, Prot.RW);
      emu().writeU64(address, 77n);
      return true;
    });
    emu().run(CODE, { until: CODE + 3n });
    assert.equal(emu().reg('rax'), 77n);
  });
});

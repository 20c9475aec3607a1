import { strict as assert } from 'node:assert';
import koffi from 'koffi';
import { registeredCallbackCount } from '../../src/engine/unicorn-library.js';
import { Emulator, NEVER_REACHED, Prot } from '../../src/engine/index.js';
import { RseqEmuError } from '../../src/errors.js';
import { CODE, DATA, PAGE, X86, incs, loadCode, runError, useEmulator } from './fixture.js';

describe('engine: running code', () => {
  const emu = useEmulator();

  it('runs up to, and not including, the `until` address', () => {
    loadCode(emu(), incs(10));
    emu().run(CODE, { until: CODE + 9n });
    assert.equal(emu().reg('rax'), 3n);
    assert.equal(emu().reg('rip'), CODE + 9n);
  });

  it('executes exactly N instructions for a run of count N', () => {
    loadCode(emu(), incs(20));
    for (const n of [1, 5, 13]) {
      emu().setReg('rax', 0n);
      emu().run(CODE, { count: n });
      assert.equal(emu().reg('rax'), BigInt(n));
      assert.equal(emu().reg('rip'), CODE + 3n * BigInt(n));
    }
  });

  it('counts the instructions of a loop exactly, including the taken branches', () => {
    loadCode(emu(), [...X86.DEC_RCX, ...X86.JNZ_MINUS_5, ...X86.HLT]);
    emu().setReg('rcx', 1000n);
    emu().run(CODE, { count: 101 }); // 50 × (dec, jnz) + 1 dec
    assert.equal(emu().reg('rcx'), 1000n - 51n);
    assert.equal(emu().reg('rip'), CODE + 3n);
  });

  it('rejects a count that is not a positive integer', () => {
    assert.throws(() => emu().run(CODE, { count: 0 }), /count must be a positive integer/);
    assert.throws(() => emu().run(CODE, { count: 1.5 }), /count must be a positive integer/);
  });

  it('ends a run without error at hlt, with RIP after it', () => {
    loadCode(emu(), [...X86.INC_RAX, ...X86.HLT, ...X86.INC_RAX]);
    emu().run(CODE);
    assert.equal(emu().reg('rax'), 1n);
    assert.equal(emu().reg('rip'), CODE + 4n);
  });

  it('uses the last address of the address space as the default `until`', () => {
    assert.equal(NEVER_REACHED, 0xffff_ffff_ffff_ffffn);
  });

  it('executes rewritten code after the old bytes were already translated', () => {
    loadCode(emu(), X86.INC_RAX);
    emu().run(CODE, { until: CODE + 3n });
    emu().write(CODE, Uint8Array.from([0x48, 0xff, 0xc8])); // dec rax
    emu().run(CODE, { until: CODE + 3n });
    assert.equal(emu().reg('rax'), 0n);
  });

  it('reports an invalid instruction as an ENGINE error at its RIP', () => {
    loadCode(emu(), [...X86.INC_RAX, ...X86.UD2]);
    const error = runError(emu(), CODE);
    assert.ok(error instanceof RseqEmuError);
    assert.equal(error.code, 'ENGINE');
    assert.equal(error.address, CODE + 3n);
    assert.match(error.message, /uc_emu_start: Invalid instruction \(UC_ERR_INSN_INVALID\) at rip=0x10003/);
  });

  it('reports an unmapped load as a MEMORY error with the data address', () => {
    loadCode(emu(), X86.LOAD_RAX_FROM_RBX);
    emu().setReg('rbx', 0x5_0008n);
    const error = runError(emu(), CODE);
    assert.ok(error instanceof RseqEmuError);
    assert.equal(error.code, 'MEMORY');
    assert.equal(error.address, 0x5_0008n);
    assert.match(error.message, /UC_ERR_READ_UNMAPPED.*read of 8 bytes at 0x50008 \(unmapped\)/);
  });

  it('restores saved registers but not memory', () => {
    emu().setReg('rax', 7n);
    emu().setReg('rip', CODE + 3n);
    emu().writeU64(DATA, 1n);
    const saved = emu().saveContext();
    emu().setReg('rax', 8n);
    emu().setReg('rip', CODE);
    emu().writeU64(DATA, 2n);
    emu().restoreContext(saved);
    assert.equal(emu().reg('rax'), 7n);
    assert.equal(emu().reg('rip'), CODE + 3n);
    assert.equal(emu().readU64(DATA), 2n);
  });

  it('overwrites an existing context when saving into it', () => {
    emu().setReg('rbx', 1n);
    const saved = emu().saveContext();
    emu().setReg('rbx', 2n);
    assert.equal(emu().saveContext(saved), saved);
    emu().setReg('rbx', 3n);
    emu().restoreContext(saved);
    assert.equal(emu().reg('rbx'), 2n);
  });

  it('refuses to restore a context after it was freed', () => {
    const saved = emu().saveContext();
    emu().freeContext(saved);
    assert.throws(() => emu().restoreContext(saved), /not a saved context/);
  });
});

describe('engine: lifecycle', () => {
  it('closes idempotently and refuses to be used afterwards', () => {
    const emu = Emulator.create();
    emu.close();
    emu.close();
    assert.equal(emu.closed, true);
    assert.throws(() => emu.reg('rax'), /emulator is closed/);
  });

  it('releases every hook callback on close, including hooks never removed', () => {
    const before = registeredCallbackCount();
    for (let i = 0; i < 20; i++) {
      const emu = Emulator.create();
      emu.map(CODE, PAGE, Prot.RWX);
      emu.onCode(CODE, CODE + 1n, () => {});
      emu.onSyscall(() => {});
      emu.saveContext();
      emu.close();
    }
    assert.equal(registeredCallbackCount(), before);
  });

  it('adds hooks without taking koffi callback slots (koffi has 8192)', () => {
    const emu = Emulator.create();
    try {
      emu.onSyscall(() => {}); // the first hook ever may register the shared trampolines
      const before = koffi.stats().callbacks;
      for (let i = 0; i < 100; i++) emu.onSyscall(() => {});
      assert.equal(koffi.stats().callbacks, before);
    } finally {
      emu.close();
    }
  });

  it('keeps separate emulators independent', () => {
    const a = Emulator.create();
    const b = Emulator.create();
    try {
      a.setReg('rax', 1n);
      b.setReg('rax', 2n);
      assert.equal(a.reg('rax'), 1n);
      assert.deepEqual(b.regions(), []);
    } finally {
      a.close();
      b.close();
    }
  });
});

import { strict as assert } from 'node:assert';
import { X86_REGISTERS, type RegisterFile, type X86Register } from '../../src/engine/index.js';
import { RseqEmuError } from '../../src/errors.js';
import { CODE, DATA, X86, loadCode, useEmulator } from './fixture.js';

describe('engine: registers', () => {
  const emu = useEmulator();

  it('reads back every 64-bit register it wrote, each independently of the others', () => {
    const wide = X86_REGISTERS.filter((name) => name !== 'eflags');
    wide.forEach((name, i) => emu().setReg(name, (0x1111n * BigInt(i + 1)) << 32n));
    wide.forEach((name, i) => assert.equal(emu().reg(name), (0x1111n * BigInt(i + 1)) << 32n, name));
  });

  it('reads back the flags it wrote to eflags', () => {
    emu().setReg('eflags', 0x246n); // IF, ZF, PF and the always-one bit 1
    assert.equal(emu().reg('eflags'), 0x246n);
  });

  it('writes and reads the whole register file at once', () => {
    const file = Object.fromEntries(X86_REGISTERS.map((name, i) => [name, BigInt(i) << 40n])) as RegisterFile;
    file.eflags = 0x202n; // bit 1 always reads as 1
    emu().writeRegisters(file);
    assert.deepEqual(emu().readRegisters(), file);
  });

  it('reads the whole register file inside a hook with a RIP the hook wrote, as reg(\'rip\') does', () => {
    loadCode(emu(), [...X86.INC_RAX, ...X86.INC_RAX, ...X86.HLT]);
    let rip: bigint | undefined;
    emu().onCode(CODE, CODE + 1n, () => {
      emu().setReg('rip', CODE + 3n);
      rip = emu().readRegisters().rip;
    });
    emu().run(CODE);
    assert.equal(rip, CODE + 3n);
  });

  it('stores negative values as two\'s complement and reads them back unsigned', () => {
    emu().setReg('rax', -1n);
    assert.equal(emu().reg('rax'), 0xffff_ffff_ffff_ffffn);
  });

  it('rejects values that do not fit in 64 bits', () => {
    assert.throws(() => emu().setReg('rbx', 1n << 64n), /does not fit in 64 bits/);
    assert.throws(() => emu().setReg('rbx', -(1n << 63n) - 1n), /does not fit in 64 bits/);
  });

  it('rejects an unknown register name coming from untyped code', () => {
    assert.throws(() => emu().reg('eax' as X86Register), (e: unknown) => e instanceof RseqEmuError && e.code === 'USAGE');
  });

  it('makes %fs:8 read FS_BASE+8', () => {
    emu().writeU64(DATA + 8n, 0xfeed_f00dn);
    emu().setReg('fs_base', DATA);
    emu().run(CODE, { until: loadCode(emu(), X86.LOAD_RAX_FS8) });
    assert.equal(emu().reg('rax'), 0xfeed_f00dn);
  });

  it('makes %gs:8 read GS_BASE+8', () => {
    emu().writeU64(DATA + 8n, 0xcafen);
    emu().setReg('gs_base', DATA);
    emu().run(CODE, { until: loadCode(emu(), X86.LOAD_RAX_GS8) });
    assert.equal(emu().reg('rax'), 0xcafen);
  });

  it('starts with eflags = 0x2 and the other registers zero', () => {
    const file = emu().readRegisters();
    assert.equal(file.eflags, 2n);
    for (const name of X86_REGISTERS.filter((n) => n !== 'eflags')) assert.equal(file[name], 0n, name);
  });
});

// Pins down the Unicorn 2.0.1 behaviour that the kernel model builds on (see the
// "Measured on libunicorn2 2.0.1" notes at the top of src/engine/emulator.ts).
import { strict as assert } from 'node:assert';
import { Prot, type MemoryAccess, type MemoryFaultCause } from '../../src/engine/index.js';
import { RseqEmuError } from '../../src/errors.js';
import { CODE, DATA, PAGE, X86, incs, loadCode, padTo, runError, useEmulator } from './fixture.js';

const FAR = CODE + 0x20n;
/** `main` at CODE, then two `inc rax` and a hlt at FAR. */
const withFarCode = (main: readonly number[]): number[] => [...padTo(0x20, main), ...incs(2), ...X86.HLT];

type Report = [MemoryAccess, MemoryFaultCause, bigint, number, bigint];

describe('engine semantics (Unicorn 2.0.1)', () => {
  const emu = useEmulator();

  /** Installs an invalid-memory hook that records its reports and RIP, and lets the fault stand. */
  function recordFaults(): { reports: Report[]; rips: bigint[] } {
    const seen = { reports: [] as Report[], rips: [] as bigint[] };
    emu().onInvalidMemory((...report) => {
      seen.reports.push(report);
      seen.rips.push(emu().reg('rip'));
      return false;
    });
    return seen;
  }

  describe('1. stop() from a code hook', () => {
    it('returns before the hooked instruction executes, with RIP at it', () => {
      loadCode(emu(), [...incs(4), ...X86.HLT]);
      emu().onCode(CODE, CODE + 12n, (address) => {
        if (address === CODE + 6n) emu().stop();
      });
      emu().run(CODE);
      assert.equal(emu().reg('rax'), 2n);
      assert.equal(emu().reg('rip'), CODE + 6n);
    });

    it('continues at the RIP a code hook wrote, without executing the hooked instruction', () => {
      loadCode(emu(), withFarCode([...incs(3), ...X86.HLT]));
      emu().onCode(CODE, CODE + 1n, () => emu().setReg('rip', FAR));
      emu().run(CODE);
      assert.equal(emu().reg('rax'), 2n);
      assert.equal(emu().reg('rip'), FAR + 7n);
    });

    it('stops at the RIP the hook wrote when it also calls stop(), in either order', () => {
      for (const order of ['stop-first', 'rip-first']) {
        loadCode(emu(), withFarCode([...incs(3), ...X86.HLT]));
        emu().setReg('rax', 0n);
        const hook = emu().onCode(CODE + 3n, CODE + 4n, () => {
          if (order === 'stop-first') emu().stop();
          emu().setReg('rip', FAR);
          if (order === 'rip-first') emu().stop();
        });
        emu().run(CODE);
        emu().removeHook(hook);
        assert.equal(emu().reg('rax'), 1n, order);
        assert.equal(emu().reg('rip'), FAR, order);
      }
    });

    it('shows the RIP written so far when the hook reads it back', () => {
      loadCode(emu(), withFarCode([...X86.INC_RAX, ...X86.HLT]));
      let seen = 0n;
      emu().onCode(CODE, CODE + 1n, () => {
        emu().setReg('rip', FAR);
        seen = emu().reg('rip');
      });
      emu().run(CODE);
      assert.equal(seen, FAR);
    });
  });

  describe('2. syscall hook', () => {
    it('sees RIP at the syscall instruction itself', () => {
      loadCode(emu(), [...X86.INC_RAX, ...X86.SYSCALL, ...X86.HLT]);
      let rip = 0n;
      emu().onSyscall(() => {
        rip = emu().reg('rip');
      });
      emu().run(CODE);
      assert.equal(rip, CODE + 3n);
    });

    it('continues after the syscall with the RAX the hook wrote', () => {
      loadCode(emu(), [...X86.SYSCALL, ...X86.INC_RAX, ...X86.HLT]);
      emu().onSyscall(() => emu().setReg('rax', 100n));
      emu().run(CODE);
      assert.equal(emu().reg('rax'), 101n);
      assert.equal(emu().reg('rip'), CODE + 6n);
    });

    it('continues at the RIP the hook wrote', () => {
      loadCode(emu(), withFarCode([...X86.SYSCALL, ...X86.HLT]));
      emu().onSyscall(() => emu().setReg('rip', FAR));
      emu().run(CODE);
      assert.equal(emu().reg('rax'), 2n);
    });

    it('continues at the RIP the hook wrote after a REX-prefixed syscall too', () => {
      loadCode(emu(), withFarCode([0x48, ...X86.SYSCALL, ...X86.HLT]));
      emu().onSyscall(() => emu().setReg('rip', FAR));
      emu().run(CODE);
      assert.equal(emu().reg('rax'), 2n);
    });

    it('returns with RIP after the syscall when the hook calls stop()', () => {
      loadCode(emu(), [...X86.SYSCALL, ...X86.INC_RAX, ...X86.HLT]);
      emu().onSyscall(() => emu().stop());
      emu().run(CODE);
      assert.equal(emu().reg('rax'), 0n);
      assert.equal(emu().reg('rip'), CODE + 2n);
    });

    it('returns with RIP where the hook wrote it when the hook also calls stop()', () => {
      loadCode(emu(), withFarCode([...X86.SYSCALL, ...X86.HLT]));
      emu().onSyscall(() => {
        emu().setReg('rip', FAR);
        emu().stop();
      });
      emu().run(CODE);
      assert.equal(emu().reg('rax'), 0n);
      assert.equal(emu().reg('rip'), FAR);
    });

    it('counts the syscall as one instruction', () => {
      loadCode(emu(), [...X86.INC_RAX, ...X86.SYSCALL, ...X86.INC_RAX, ...X86.HLT]);
      emu().onSyscall(() => {});
      emu().run(CODE, { count: 2 });
      assert.equal(emu().reg('rip'), CODE + 5n);
    });

    it('skips a syscall silently, leaving RCX alone, when no syscall hook is installed', () => {
      loadCode(emu(), [...X86.SYSCALL, ...X86.INC_RAX, ...X86.HLT]);
      let interrupts = 0;
      emu().onInterrupt(() => interrupts++);
      emu().run(CODE);
      assert.equal(emu().reg('rax'), 1n);
      assert.equal(emu().reg('rcx'), 0n);
      assert.equal(interrupts, 0);
    });
  });

  for (const [name, insn] of [['ud2', X86.UD2], ['the rseq signature ud1', X86.RSEQ_SIGNATURE_UD1]] as const) {
    describe(`3. ${name}`, () => {
      beforeEach(() => loadCode(emu(), [...X86.INC_RAX, ...insn, ...X86.INC_RAX, ...X86.HLT]));

      it('fails run() with UC_ERR_INSN_INVALID and RIP at the instruction when no hook is installed', () => {
        const error = runError(emu(), CODE);
        assert.ok(error instanceof RseqEmuError);
        assert.equal(error.code, 'ENGINE');
        assert.match(error.message, /UC_ERR_INSN_INVALID/);
        assert.equal(emu().reg('rip'), CODE + 3n);
        assert.equal(emu().reg('rax'), 1n);
      });

      it('calls the invalid-instruction hook with RIP at the instruction, and no interrupt hook', () => {
        const rips: bigint[] = [];
        const interrupts: number[] = [];
        emu().onInterrupt((intno) => interrupts.push(intno));
        emu().onInvalidInstruction(() => {
          rips.push(emu().reg('rip'));
          return false;
        });
        assert.ok(runError(emu(), CODE) instanceof RseqEmuError);
        assert.deepEqual(rips, [CODE + 3n]);
        assert.deepEqual(interrupts, []);
      });

      it('ends run() without error, executing nothing more, when the hook returns true', () => {
        emu().onInvalidInstruction(() => true);
        emu().run(CODE);
        assert.equal(emu().reg('rip'), CODE + 3n);
        assert.equal(emu().reg('rax'), 1n);
      });

      it('ends run() at the RIP the hook wrote, still executing nothing more', () => {
        const next = CODE + 3n + BigInt(insn.length);
        emu().onInvalidInstruction(() => {
          emu().setReg('rip', next);
          return true;
        });
        emu().run(CODE);
        assert.equal(emu().reg('rip'), next);
        assert.equal(emu().reg('rax'), 1n);
      });
    });
  }

  describe('3b. int3', () => {
    it('fails run() with UC_ERR_EXCEPTION and RIP after it when no interrupt hook is installed', () => {
      loadCode(emu(), [...X86.INT3, ...X86.INC_RAX, ...X86.HLT]);
      const error = runError(emu(), CODE);
      assert.ok(error instanceof RseqEmuError);
      assert.match(error.message, /UC_ERR_EXCEPTION/);
      assert.equal(emu().reg('rip'), CODE + 1n);
    });

    it('reports interrupt 3 with RIP after the int3, then continues', () => {
      loadCode(emu(), [...X86.INT3, ...X86.INC_RAX, ...X86.HLT]);
      const seen: [number, bigint][] = [];
      emu().onInterrupt((intno) => seen.push([intno, emu().reg('rip')]));
      emu().run(CODE);
      assert.deepEqual(seen, [[3, CODE + 1n]]);
      assert.equal(emu().reg('rax'), 1n);
    });
  });

  describe('4. unmapped memory', () => {
    const UNMAPPED = 0x5_0008n;
    /** Three incs, then `access`, then more code: the fault is on the 4th instruction of the block. */
    const faultOnFourth = (access: readonly number[]) => [...incs(3), ...access, ...X86.INC_RAX, ...X86.HLT];

    it('reports a read as (read, unmapped, address, size, 0)', () => {
      loadCode(emu(), faultOnFourth(X86.LOAD_RAX_FROM_RBX));
      emu().setReg('rbx', UNMAPPED);
      const seen = recordFaults();
      assert.ok(runError(emu(), CODE) instanceof RseqEmuError);
      assert.deepEqual(seen.reports, [['read', 'unmapped', UNMAPPED, 8, 0n]]);
    });

    it('reports a write as (write, unmapped, address, size, value written)', () => {
      loadCode(emu(), faultOnFourth(X86.STORE_RCX_TO_RBX));
      emu().setReg('rbx', UNMAPPED);
      emu().setReg('rcx', 0x1234n);
      const seen = recordFaults();
      assert.ok(runError(emu(), CODE) instanceof RseqEmuError);
      assert.deepEqual(seen.reports, [['write', 'unmapped', UNMAPPED, 8, 0x1234n]]);
    });

    it('reports an address in the top half of the address space unsigned', () => {
      loadCode(emu(), faultOnFourth(X86.LOAD_RAX_FROM_RBX));
      emu().setReg('rbx', 0xffff_ffff_ffff_0000n);
      const seen = recordFaults();
      const error = runError(emu(), CODE);
      assert.deepEqual(seen.reports, [['read', 'unmapped', 0xffff_ffff_ffff_0000n, 8, 0n]]);
      assert.ok(error instanceof RseqEmuError);
      assert.equal(error.address, 0xffff_ffff_ffff_0000n);
    });

    it('reports a fetch as (fetch, unmapped, target, 1, 0), with RIP at the target', () => {
      loadCode(emu(), [...X86.INC_RAX, ...X86.JMP_RBX]);
      emu().setReg('rbx', 0x5_0000n);
      const seen = recordFaults();
      const error = runError(emu(), CODE);
      assert.ok(error instanceof RseqEmuError);
      assert.equal(error.code, 'MEMORY');
      assert.equal(error.address, 0x5_0000n);
      assert.deepEqual(seen.reports, [['fetch', 'unmapped', 0x5_0000n, 1, 0n]]);
      assert.deepEqual(seen.rips, [0x5_0000n]);
      assert.equal(emu().reg('rip'), 0x5_0000n);
    });

    it('leaves RIP at the faulting instruction, after the earlier instructions ran, with no code hook', () => {
      loadCode(emu(), faultOnFourth(X86.LOAD_RAX_FROM_RBX));
      emu().setReg('rbx', UNMAPPED);
      const seen = recordFaults();
      runError(emu(), CODE);
      assert.deepEqual(seen.rips, [CODE + 9n]);
      assert.equal(emu().reg('rip'), CODE + 9n);
      assert.equal(emu().reg('rax'), 3n);
    });

    it('leaves RIP at the faulting instruction with a code hook over an earlier instruction', () => {
      loadCode(emu(), faultOnFourth(X86.LOAD_RAX_FROM_RBX));
      emu().setReg('rbx', UNMAPPED);
      emu().onCode(CODE + 3n, CODE + 4n, () => {});
      runError(emu(), CODE);
      assert.equal(emu().reg('rip'), CODE + 9n);
    });

    it('runs no instruction of a block whose last instruction runs into an unmapped page', () => {
      const start = CODE + BigInt(PAGE) - 9n;
      emu().write(start, Uint8Array.from([...incs(2), ...X86.NOP, ...X86.NOP, 0x48])); // 0x48 needs a next byte
      const executed: bigint[] = [];
      emu().onCode(CODE, CODE + BigInt(PAGE), (address) => executed.push(address));
      const error = runError(emu(), start);
      assert.ok(error instanceof RseqEmuError);
      assert.equal(error.address, CODE + BigInt(PAGE));
      assert.deepEqual(executed, []);
      assert.equal(emu().reg('rax'), 0n);
      assert.equal(emu().reg('rip'), start);
    });
  });

  describe('5. protected memory', () => {
    it('reports a write to a read-only page as (write, protected, ...) and leaves the memory unchanged', () => {
      loadCode(emu(), [...X86.STORE_RCX_TO_RBX, ...X86.HLT]);
      emu().protect(DATA, PAGE, Prot.R);
      emu().setReg('rbx', DATA + 0x10n);
      emu().setReg('rcx', 0x1234n);
      const seen = recordFaults();
      const error = runError(emu(), CODE);
      assert.ok(error instanceof RseqEmuError);
      assert.equal(error.code, 'MEMORY');
      assert.match(error.message, /UC_ERR_WRITE_PROT/);
      assert.deepEqual(seen.reports, [['write', 'protected', DATA + 0x10n, 8, 0x1234n]]);
      assert.equal(emu().readU64(DATA + 0x10n), 0n);
    });

    it('reports a read of a PROT_NONE page as (read, protected, ...)', () => {
      loadCode(emu(), [...X86.LOAD_RAX_FROM_RBX, ...X86.HLT]);
      emu().protect(DATA, PAGE, Prot.NONE);
      emu().setReg('rbx', DATA + 0x10n);
      const seen = recordFaults();
      runError(emu(), CODE);
      assert.deepEqual(seen.reports, [['read', 'protected', DATA + 0x10n, 8, 0n]]);
    });

    it('reports a fetch from a non-executable page as (fetch, protected, target, 1, 0), with RIP at the target', () => {
      loadCode(emu(), X86.JMP_RBX);
      emu().write(DATA, Uint8Array.from(X86.INC_RAX));
      emu().setReg('rbx', DATA);
      const seen = recordFaults();
      const error = runError(emu(), CODE);
      assert.ok(error instanceof RseqEmuError);
      assert.match(error.message, /UC_ERR_FETCH_PROT/);
      assert.deepEqual(seen.reports, [['fetch', 'protected', DATA, 1, 0n]]);
      assert.equal(emu().reg('rip'), DATA);
      assert.equal(emu().reg('rax'), 0n);
    });
  });

  describe('6. count with hooks', () => {
    it('counts exactly, and calls the hook once per instruction, with a code hook over every instruction', () => {
      loadCode(emu(), incs(20));
      let calls = 0;
      emu().onCode(CODE, CODE + 60n, () => calls++);
      emu().run(CODE, { count: 13 });
      assert.equal(emu().reg('rax'), 13n);
      assert.equal(calls, 13);
    });

    it('counts exactly with a code hook over part of the code', () => {
      loadCode(emu(), incs(20));
      emu().onCode(CODE + 9n, CODE + 10n, () => {});
      emu().run(CODE, { count: 13 });
      assert.equal(emu().reg('rax'), 13n);
      assert.equal(emu().reg('rip'), CODE + 39n);
    });

    it('counts exactly on code already translated by a run without a count', () => {
      loadCode(emu(), [...incs(20), ...X86.HLT]);
      emu().run(CODE);
      emu().setReg('rax', 0n);
      emu().run(CODE, { count: 5 });
      assert.equal(emu().reg('rax'), 5n);
    });

    it('counts an instruction skipped by a RIP write in its code hook as executed', () => {
      loadCode(emu(), withFarCode(incs(3)));
      emu().onCode(CODE + 3n, CODE + 4n, () => emu().setReg('rip', FAR));
      emu().run(CODE, { count: 3 });
      assert.equal(emu().reg('rax'), 2n); // inc at CODE, (skipped CODE+3), inc at FAR
      assert.equal(emu().reg('rip'), FAR + 3n);
    });
  });
});

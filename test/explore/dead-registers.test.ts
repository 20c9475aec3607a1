// Dead registers at an address: written before read on every path from it. Unknown instructions,
// calls and returns keep everything; only a whole-register write kills a register.
import { strict as assert } from 'node:assert';
import { findSymbol, type Image } from '../../src/asm/image.js';
import { Emulator, Prot, type RegisterFile, type X86Register } from '../../src/engine/index.js';
import { deadRegisters, registerNames } from '../../src/explore/dead-registers.js';
import { asm, src } from '../asm/helpers.js';

async function deadAt(...lines: string[]): Promise<string[]> {
  const image = await asm(src('here:', ...lines));
  return registerNames(deadRegisters(image, findSymbol(image, 'here')!.address));
}

describe('dead registers', () => {
  it('are the registers and flags every path writes before reading them', async () => {
    assert.deepEqual(await deadAt('movq $1, %rax', 'movl (%rdi), %r8d', 'cmpq %rax, %rsi', 'ret'), ['rax', 'r8', 'eflags']);
  });

  it('do not include a register read before it is written', async () => {
    assert.deepEqual(await deadAt('addq $1, %rax', 'movq $2, %rax', 'ret'), ['eflags']);
  });

  it('do not include a register only partly written (8 and 16 bits keep the rest)', async () => {
    assert.deepEqual(await deadAt('movb $1, %al', 'movw $1, %bx', 'ret'), []);
  });

  it('count a 32-bit write as a whole write (it zero-extends)', async () => {
    assert.deepEqual(await deadAt('movl $1, %ecx', 'ret'), ['rcx']);
  });

  it('count `xor` of a register with itself as a write that reads nothing', async () => {
    assert.deepEqual(await deadAt('xorl %edx, %edx', 'ret'), ['rdx', 'eflags']);
  });

  it('keep what either branch of a conditional jump reads', async () => {
    assert.deepEqual(await deadAt('cmpq $0, %rdi', 'je 1f', 'movq $1, %rax', 'ret', '1: movq %rax, (%rdi)', 'ret'), ['eflags']);
  });

  it('follow a loop without counting it as a read', async () => {
    assert.deepEqual(await deadAt('1: movq $5, %r9', 'testq %r9, %r9', 'jne 1b', 'ret'), ['r9', 'eflags']);
  });

  it('keep everything at a call, an indirect jump or an instruction the analysis does not know', async () => {
    for (const stop of ['call f', 'jmp *%rax', 'cpuid', 'lock incq (%rdi)']) assert.deepEqual(await deadAt(stop, 'movq $1, %r10', 'ret', 'f: ret'), [], stop);
  });

  // Two exits that each write %rdx: what decides the flags' fate is the instruction before the branch.
  const branchOnFlags = (first: string, branch = 'jne') => deadAt(first, `${branch} 1f`, 'movq $1, %rdx', 'ret', '1: movq $2, %rdx', 'ret');

  it('keep the flags across `inc`, which leaves the carry flag as it was', async () => {
    assert.deepEqual(await branchOnFlags('incq %rax', 'jc'), ['rdx']);
  });

  it('count `neg` as setting every flag', async () => {
    assert.deepEqual(await branchOnFlags('negq %rax', 'jc'), ['rdx', 'eflags']);
  });

  it('follow a shift by a constant: it reads and writes its operand and sets the flags', async () => {
    assert.deepEqual(await deadAt('movq %r8, %r9', 'shlq $7, %r9', 'movq (%r9), %r10', 'cmpq %r10, %rsi', 'ret'), ['r9', 'r10', 'eflags']);
  });

  it('keep the flags across a shift by %cl, whose count may be zero, and keep %rcx', async () => {
    assert.deepEqual(await branchOnFlags('shlq %cl, %rax'), ['rdx']);
    assert.deepEqual(await deadAt('shlq %cl, %rax', 'movq $1, %rcx', 'ret'), []);
  });

  it('keep the flags across a shift by a constant that masks to zero', async () => {
    assert.deepEqual(await branchOnFlags('shll $32, %eax'), ['rdx']);
  });

  it('count a three-operand `imul` as writing its destination and the flags', async () => {
    assert.deepEqual(await deadAt('imulq $3, %rsi, %rax', 'ret'), ['rax', 'eflags']);
    assert.deepEqual(await deadAt('imulq %rsi, %rax', 'ret'), ['eflags']);
  });

  it('count `setcc` and `cmovcc` as reading the flags, and `cmovcc` its destination', async () => {
    assert.deepEqual(await deadAt('sete %al', 'movq $1, %rdx', 'cmpq %rdx, %rsi', 'ret'), ['rdx']);
    assert.deepEqual(await deadAt('cmovneq %rsi, %rax', 'movq $1, %rdx', 'cmpq %rdx, %rsi', 'ret'), ['rdx']);
  });

  it('follow the abort a listed critical section may take before any of its instructions', async () => {
    const section = [
      '.pushsection __rseq_cs, "aw"', '.balign 32', 'desc: .long 0, 0', '.quad start, post - start, abort', '.popsection',
      '.pushsection __rseq_cs_ptr_array, "aw"', '.quad desc', '.popsection',
    ];
    // Straight through, %r11 and %rdx are written before anything reads them; the abort handler reads %r11.
    const body = ['leaq start(%rip), %rax', 'start: movq $1, %r11', 'movq $2, %rdx', 'post: ret', '.byte 0x0f, 0xb9, 0x3d', '.long 0x53053053', 'abort: movq %r11, %rax', 'ret'];
    assert.deepEqual(await deadAt(...body, ...section), ['rax']);
    assert.deepEqual(await deadAt(...body), ['rax', 'rdx', 'r11'], 'without the descriptor, no abort path');
  });

  it('look through `pause`, a spin-wait hint that touches no register', async () => {
    assert.deepEqual(await deadAt('pause', 'movq $1, %rax', 'ret'), ['rax']);
  });

  it('count `adc` as reading the carry and writing every flag', async () => {
    assert.deepEqual(await branchOnFlags('adcq $0, %rax', 'jc'), ['rdx']);
    assert.deepEqual(await deadAt('movq $0, %rax', 'adcq $0, %rax', 'cmpq %rax, %rsi', 'ret'), ['rax']);
  });
});

// The analysis against the CPU: give every register it calls dead other values (and the status
// flags, when it calls them dead, the other polarity), run each snippet to its `hlt`, and require
// the same registers and memory at the end. A register or flag it wrongly called dead shows up.
describe('dead registers, against the CPU', () => {
  const DATA = 0x10_0000n;
  const snippets: string[][] = [
    ['movq %r8, %r9', 'shlq $7, %r9', 'addq %rdi, %r9', 'movq (%r9), %r10', 'cmpq 8(%r9), %r10', 'je 1f', 'movq $3, %rax', '1: hlt'],
    ['shrq $3, %rsi', 'sarl $1, %edx', 'salq %rcx', 'movq %rsi, (%rdi)', 'hlt'],
    ['shlq %cl, %rax', 'jne 1f', 'movq $1, %rdx', 'hlt', '1: movq $2, %rdx', 'hlt'],
    ['shll $32, %eax', 'jne 1f', 'movq $1, %rdx', 'hlt', '1: movq $2, %rdx', 'hlt'],
    ['incq %rax', 'jc 1f', 'decl %ebx', 'notq %rcx', 'movq $1, %rdx', 'hlt', '1: negq %rsi', 'movq $2, %rdx', 'hlt'],
    ['imulq $3, %rsi, %rax', 'imulq %rdi, %rbx', 'jo 1f', 'movq $1, %rdx', '1: hlt'],
    ['adcq $0, %rax', 'sbbq %rcx, %rbx', 'sete %dl', 'cmovneq %rsi, %r11', 'movq $7, %r8', 'hlt'],
    ['pause', 'movq $1, %rax', 'cmpq %rax, %rsi', 'setl %cl', 'hlt'],
  ];
  const VALUES = { rax: 0x11n, rbx: 0x22n, rcx: 0x3n, rdx: 0x44n, rsi: 0x55n, rdi: DATA, rbp: 0x77n, r8: 0x1n, r9: 0x99n, r10: 0xaan, r11: 0xbbn, r12: 0xccn, r13: 0xddn, r14: 0xeen, r15: 0xffn } as const;
  /** Runs the snippet's image from `here` with the registers given; the registers and data at its end. */
  function runFrom(image: Image, start: bigint, regs: Record<string, bigint>, eflags: bigint): { regs: RegisterFile; data: string } {
    const emu = Emulator.create();
    try {
      for (const s of image.sections) {
        if (!s.bytes.length) continue;
        const base = s.address & ~0xfffn;
        emu.map(base, Number(((s.address + BigInt(s.bytes.length) + 0xfffn) & ~0xfffn) - base), Prot.RWX);
        emu.write(s.address, s.bytes);
      }
      emu.map(DATA, 0x2000, Prot.RW);
      emu.write(DATA, Uint8Array.from({ length: 0x2000 }, (_, i) => (i * 37) & 0xff));
      for (const [name, value] of Object.entries(regs)) emu.setReg(name as X86Register, value);
      emu.setReg('eflags', eflags);
      emu.run(start, { count: 100 });
      return { regs: emu.readRegisters(), data: Buffer.from(emu.read(DATA, 0x2000)).toString('hex') };
    } finally {
      emu.close();
    }
  }
  for (const lines of snippets) {
    it(`leaves the end state alone: ${lines.join('; ')}`, async () => {
      const image = await asm(src('here:', ...lines));
      const start = findSymbol(image, 'here')!.address;
      const dead = registerNames(deadRegisters(image, start));
      assert.ok(dead.length > 0, 'nothing dead: the snippet tests nothing');
      for (const flags of [0x202n, 0x202n | 0x8d5n]) {
        const other: Record<string, bigint> = { ...VALUES };
        for (const name of dead) if (name !== 'eflags') other[name] = ~VALUES[name] & 0xffff_ffff_ffffn;
        const otherFlags = dead.includes('eflags') ? flags ^ 0x8d5n : flags;
        assert.deepEqual(runFrom(image, start, other, otherFlags), runFrom(image, start, { ...VALUES }, flags), `dead: ${dead.join(', ')}`);
      }
    });
  }
});

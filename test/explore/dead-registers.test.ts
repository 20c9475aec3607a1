// Dead registers at an address: written before read on every path from it. Unknown instructions,
// calls and returns keep everything; only a whole-register write kills a register.
import { strict as assert } from 'node:assert';
import { findSymbol } from '../../src/asm/image.js';
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

  it('keep the flags across `inc`, which leaves the carry flag as it was', async () => {
    assert.deepEqual(await deadAt('incq %rax', 'ret'), []);
  });
});

// Where a kernel event commutes with the instruction before it (src/explore/commuting.ts).
import { strict as assert } from 'node:assert';
import { commutable, fixupClears, registerOnlyPoints } from '../../src/explore/commuting.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { assembleSource } from '../../src/program.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario } from './fixtures.js';

const SOURCE = `
	.text
	.globl f
f:
	movq %rdi, %rax
	leaq 8(%rdi,%rsi,4), %rcx
	addq $1, %rax
	xorl %edx, %edx
	nopw 0(%rax,%rax,1)
	movq (%rdi), %rax
	movq %rax, 8(%rdi)
	movl %fs:4, %eax
	pushq %rbx
	popq %rbx
	rdtscp
	lock incq (%rdi)
	syscall
	ret
`;

describe('commuting events', () => {
  it('take as register-only the instructions that read and write registers alone, lea and long nops included', async () => {
    const image = await assembleSource(SOURCE, 'commuting.s');
    const texts = image.lines.filter((l) => l.kind === 'instruction').map((l) => [l.address, l.text.trim().split(/\s+/)[0]] as const);
    const only = registerOnlyPoints(image);
    assert.deepEqual(texts.filter(([a]) => only.has(a)).map(([, m]) => m), ['movq', 'leaq', 'addq', 'xorl', 'nopw']);
  });

  it('are preempts and migrates only: a signal handler reads the frame the registers are saved in', () => {
    assert.equal(commutable({ kind: 'event', tid: 1, event: { kind: 'preempt' } }), true);
    assert.equal(commutable({ kind: 'event', tid: 1, event: { kind: 'migrate', cpu: 1 } }), true);
    assert.equal(commutable({ kind: 'event', tid: 1, event: { kind: 'signal', signal: 10 } }), false);
    assert.equal(commutable({ kind: 'run', cpu: 1, count: 0 }), false);
  });

  it('need a fix-up that aborts nothing: not at the first instruction of an armed section, yes before the section is armed', async () => {
    const { scenario, image } = await bundledScenario('list.json');
    const m = instantiate(image, scenario);
    try {
      m.begin();
      const t = m.allThreads()[0]!;
      for (const item of parseSchedule('c0:3')) m.step(item);
      assert.equal(fixupClears(m, t, m.registersOf(t).rip), true);
      // list.json's T1, 7 instructions in, is at list_push's cpu compare, the section's first instruction.
      for (const item of parseSchedule('c0:4')) m.step(item);
      assert.equal(fixupClears(m, t, m.registersOf(t).rip), false);
    } finally {
      m.close();
    }
  });
});

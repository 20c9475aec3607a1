// What one run records is bounded: the trace and the captured output stop at their limits with a
// warning, and the run itself goes on.
import { strict as assert } from 'node:assert';
import { LIMITS } from '../../src/limits.js';
import { inline, runEntry } from '../support/program.js';

describe('the run log limits', () => {
  const saved = { ...LIMITS };
  afterEach(() => Object.assign(LIMITS, saved));

  it('keeps the first traceSteps instructions, warns once, and counts every instruction', async () => {
    LIMITS.traceSteps = 10;
    const image = await inline('f: movl $100, %ecx\n1: dec %ecx\n jnz 1b\n ret');
    const r = runEntry(image, 'f', [], { call: { trace: true } });
    assert.equal(r.outcome.status, 'returned');
    assert.equal(r.outcome.trace.length, 10);
    assert.equal(r.outcome.instructions, 202);
    assert.deepEqual(r.outcome.warnings.filter((w) => /trace cut/.test(w)).length, 1);
    r.machine.close();
  });

  it('captures output up to outputBytes, warns once, and still returns the full count to the program', async () => {
    LIMITS.outputBytes = 100;
    const image = await inline(`f: movl $3, %ebx
      1: movl $1, %eax
         movl $1, %edi
         leaq msg(%rip), %rsi
         movl $64, %edx
         syscall
         dec %ebx
         jnz 1b
         ret
      .data
      msg: .fill 64, 1, 0x41`);
    const r = runEntry(image, 'f', []);
    assert.equal(r.outcome.status, 'returned');
    assert.equal(r.outcome.output.map((o) => o.text).join('').length, 100);
    assert.deepEqual(r.outcome.syscalls.map((s) => s.ret), [64n, 64n, 64n]);
    assert.equal(r.outcome.warnings.filter((w) => /output cut/.test(w)).length, 1);
    r.machine.close();
  });
});

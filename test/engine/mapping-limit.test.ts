// Unicorn 2.0.1 aborts the whole process near 4,096 mappings; the engine refuses well before that
// with a typed, located error instead.
import { strict as assert } from 'node:assert';
import { Emulator, Prot } from '../../src/engine/index.js';
import { LIMITS } from '../../src/limits.js';
import { RseqEmuError } from '../../src/errors.js';

describe('the mapping limit', function () {
  this.timeout(120_000);
  it(`maps ${LIMITS.mappings} separate regions, then refuses the next with a MEMORY error naming its address`, () => {
    const emu = Emulator.create();
    try {
      for (let i = 0; i < LIMITS.mappings; i++) emu.map(0x10000000n + BigInt(i) * 0x2000n, 0x1000, Prot.RW);
      assert.throws(
        () => emu.map(0x90000000n, 0x1000, Prot.RW),
        (e: unknown) => e instanceof RseqEmuError && e.code === 'MEMORY' && /0x90000000: .*holds 1024 mappings/.test(e.oneLine()),
      );
    } finally {
      emu.close();
    }
  });
});

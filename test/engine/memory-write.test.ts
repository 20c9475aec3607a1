// The memory-write hook: what it reports, and where it applies.
import { strict as assert } from 'node:assert';
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
});

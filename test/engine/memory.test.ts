import { strict as assert } from 'node:assert';
import { Prot } from '../../src/engine/index.js';
import { RseqEmuError } from '../../src/errors.js';
import { CODE, DATA, PAGE, useEmulator } from './fixture.js';

const isError = (code: string, address?: bigint) => (e: unknown): boolean => {
  assert.ok(e instanceof RseqEmuError, `expected RseqEmuError, got ${String(e)}`);
  assert.equal(e.code, code);
  if (address !== undefined) assert.equal(e.address, address);
  return true;
};

describe('engine: memory', () => {
  const emu = useEmulator();

  it('reads back the bytes it wrote', () => {
    emu().write(DATA + 5n, Uint8Array.from([1, 2, 3]));
    assert.deepEqual(emu().read(DATA + 4n, 5), Uint8Array.from([0, 1, 2, 3, 0]));
  });

  it('reads and writes 32- and 64-bit values little-endian', () => {
    emu().writeU64(DATA, 0x1122_3344_5566_7788n);
    emu().writeU32(DATA + 8n, 0xdead_beef);
    assert.deepEqual([...emu().read(DATA, 4)], [0x88, 0x77, 0x66, 0x55]);
    assert.equal(emu().readU64(DATA), 0x1122_3344_5566_7788n);
    assert.equal(emu().readU32(DATA + 8n), 0xdead_beef);
    assert.equal(emu().readU32(DATA + 4n), 0x1122_3344);
  });

  it('lists mapped regions in address order with their protections', () => {
    emu().map(0x5000n, 2 * PAGE, Prot.R);
    assert.deepEqual(emu().regions(), [
      { begin: 0x5000n, end: 0x7000n, prot: Prot.R },
      { begin: CODE, end: CODE + 0x1000n, prot: Prot.RWX },
      { begin: DATA, end: DATA + 0x1000n, prot: Prot.RW },
    ]);
  });

  it('splits a region when part of it is unmapped or reprotected', () => {
    emu().map(0x40000n, 4 * PAGE, Prot.RW);
    emu().unmap(0x41000n, PAGE);
    emu().protect(0x43000n, PAGE, Prot.R);
    assert.deepEqual(emu().regions().filter((r) => r.begin >= 0x40000n), [
      { begin: 0x40000n, end: 0x41000n, prot: Prot.RW },
      { begin: 0x42000n, end: 0x43000n, prot: Prot.RW },
      { begin: 0x43000n, end: 0x44000n, prot: Prot.R },
    ]);
  });

  it('forgets a region once it is unmapped, and reading it then fails', () => {
    emu().unmap(DATA, PAGE);
    assert.equal(emu().regions().some((r) => r.begin === DATA), false);
    assert.throws(() => emu().read(DATA, 1), isError('MEMORY', DATA));
  });

  it('rejects a map whose address or size is not 4 KiB aligned', () => {
    assert.throws(() => emu().map(0x50010n, PAGE, Prot.RW), isError('USAGE', 0x50010n));
    assert.throws(() => emu().map(0x50000n, 100, Prot.RW), /4 KiB aligned/);
    assert.throws(() => emu().unmap(DATA, 10), /4 KiB aligned/);
    assert.throws(() => emu().protect(DATA + 1n, PAGE, Prot.R), /4 KiB aligned/);
  });

  it('reports a map over an existing region as a MEMORY error at that address', () => {
    assert.throws(() => emu().map(DATA, PAGE, Prot.RW), isError('MEMORY', DATA));
  });

  it('reports a read of unmapped memory as a MEMORY error carrying the address', () => {
    assert.throws(() => emu().read(0x9_0000n, 8), (e: unknown) => {
      isError('MEMORY', 0x9_0000n)(e);
      assert.match((e as Error).message, /uc_mem_read.*0x90000.*UC_ERR_READ_UNMAPPED/);
      return true;
    });
  });

  it('reports a write of unmapped memory as a MEMORY error carrying the address', () => {
    assert.throws(() => emu().writeU64(0x9_0008n, 1n), isError('MEMORY', 0x9_0008n));
  });

  it('lets the host write read-only pages (protections apply to emulated code only)', () => {
    emu().protect(DATA, PAGE, Prot.R);
    emu().writeU64(DATA, 42n);
    assert.equal(emu().readU64(DATA), 42n);
  });
});

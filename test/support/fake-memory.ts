// Sparse byte-addressed memory for kernel-logic tests: unmapped pages throw like a fault.
import type { MemoryReader, MemoryWriter } from '../../src/abi/rseq.js';

export class FakeMemory implements MemoryReader, MemoryWriter {
  private readonly pages = new Map<bigint, Uint8Array>();
  readonly readOnly = new Set<bigint>();

  map(address: bigint, size: number): this {
    for (let p = address >> 12n; p <= (address + BigInt(size) - 1n) >> 12n; p++) if (!this.pages.has(p)) this.pages.set(p, new Uint8Array(4096));
    return this;
  }

  read(address: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const a = address + BigInt(i);
      const page = this.pages.get(a >> 12n);
      if (!page) throw new Error(`fault reading ${a.toString(16)}`);
      out[i] = page[Number(a & 0xfffn)]!;
    }
    return out;
  }

  write(address: bigint, bytes: Uint8Array): void {
    bytes.forEach((b, i) => {
      const a = address + BigInt(i);
      const page = this.pages.get(a >> 12n);
      if (!page || this.readOnly.has(a >> 12n)) throw new Error(`fault writing ${a.toString(16)}`);
      page[Number(a & 0xfffn)] = b;
    });
  }
}

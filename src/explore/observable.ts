// Which bytes of the final state later operations can read. The oracle compares a run with a
// serial order only on those: data no operation can read (slots above a stack's top, a buffer's
// free space) may hold anything. A scenario declares it per region — byte ranges, or a count
// word plus the items it makes live, optionally repeated per CPU — and the TS API can pass a
// function instead. Regions with no declaration follow the default rule (oracle.ts, dead-bytes.ts).
import { RseqEmuError } from '../errors.js';
import type { ObserveLayout } from '../scenario/scenario.js';
import type { SharedMemory } from './oracle.js';

/** [start, end) in bytes from the region's start. */
export type ByteRange = readonly [start: number, end: number];

/** A region's observable bytes, from its final bytes and (for layouts that span regions) the whole state. */
export type ObserveFn = (bytes: Uint8Array, state: readonly SharedMemory[]) => Iterable<ByteRange>;

/** Per region: declarative layouts (the scenario file's `observe` form) or a function. */
export type ObserveSpec = ObserveFn | readonly ObserveLayout[];

function readCount(bytes: Uint8Array, at: number, size: number): number {
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[at + k] ?? 0);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** The byte ranges one layout makes observable in a region holding `bytes`, for `cpus` CPUs. */
export function layoutRanges(l: ObserveLayout, bytes: Uint8Array, cpus: number): ByteRange[] {
  const out: ByteRange[] = [];
  const copies = l.perCpu === undefined ? 1 : cpus;
  for (let c = 0; c < copies; c++) {
    const base = c * (l.perCpu ?? 0);
    if ('bytes' in l) {
      out.push([base + l.bytes[0], base + l.bytes[1]]);
      continue;
    }
    out.push([base + l.count, base + l.count + l.countSize]);
    // A count beyond `max` or the region's end makes only the items that exist observable; the
    // count word itself still differs from any serial state that holds a sane count.
    let n = readCount(bytes, base + l.count, l.countSize);
    if (l.max !== undefined) n = Math.min(n, l.max);
    for (let i = 0; i < n; i++) {
      const at = base + l.items + i * l.stride;
      if (at >= bytes.length) break;
      out.push([at, at + l.itemSize]);
    }
  }
  return out;
}

export class Observability {
  private readonly specs: Map<string, ObserveSpec>;

  /** `names` are the regions and sections of the shared state; a declaration for anything else is an error. */
  constructor(specs: Record<string, ObserveSpec>, private readonly cpus: number, names: readonly string[]) {
    this.specs = new Map(Object.entries(specs));
    for (const name of this.specs.keys()) {
      if (!names.includes(name)) throw new RseqEmuError('INPUT', `observe.${name}: no memory region or writable section of that name (known: ${names.join(', ')})`);
    }
  }

  get declared(): boolean {
    return this.specs.size > 0;
  }

  /** For each region of `state`: a mask of its observable bytes (1 = observable), or null where nothing is declared. */
  masks(state: readonly SharedMemory[]): (Uint8Array | null)[] {
    return state.map((r) => {
      const spec = this.specs.get(r.name);
      if (spec === undefined) return null;
      const mask = new Uint8Array(r.bytes.length);
      const ranges = typeof spec === 'function' ? spec(r.bytes, state) : spec.flatMap((l) => layoutRanges(l, r.bytes, this.cpus));
      for (const [start, end] of ranges) mask.fill(1, Math.max(0, start), Math.min(mask.length, end));
      return mask;
    });
  }
}

/** Bytes observable in either of two states: where counts differ, the count word itself differs. */
export function unionMasks(a: readonly (Uint8Array | null)[], b: readonly (Uint8Array | null)[]): (Uint8Array | null)[] {
  return a.map((m, i) => {
    const n = b[i];
    if (!m || !n) return m ?? n ?? null;
    return m.map((x, j) => x | n[j]!);
  });
}

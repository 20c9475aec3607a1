// Shared test fixtures: assemble a bundled or inline source, run an entry on a fresh machine.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findSymbol, type Image } from '../../src/asm/image.js';
import { Machine, type CallOptions, type MachineOptions } from '../../src/kernel/machine.js';
import { parseEvent } from '../../src/kernel/event-spec.js';
import type { RunOutcome } from '../../src/kernel/outcome.js';
import { assembleSource } from '../../src/program.js';
import type { Address } from '../../src/types.js';

export const ASM_DIR = fileURLToPath(new URL('../../asm/', import.meta.url));

const cache = new Map<string, Promise<Image>>();

/** Assembles `asm/NAME` once per test process. */
export function bundled(name: string): Promise<Image> {
  let p = cache.get(name);
  if (!p) {
    p = assembleSource(readFileSync(ASM_DIR + name, 'utf8'), `asm/${name}`);
    cache.set(name, p);
  }
  return p;
}

export const inline = (source: string, file = 'test.s'): Promise<Image> => assembleSource(source, file);

export function address(image: Image, name: string): Address {
  const s = findSymbol(image, name);
  if (!s) throw new Error(`no symbol ${name} in ${image.file}`);
  return s.address;
}

export interface Region {
  name: string;
  size: number;
  words?: bigint[];
}

export interface RunResult {
  outcome: RunOutcome;
  /** Each region's contents as u64 words after the run. */
  memory: Record<string, bigint[]>;
  regions: Record<string, Address>;
  machine: Machine;
}

/**
 * Runs `entry` on a fresh machine. `args` are numbers or region names (`name` or `name+8`);
 * `events` use the CLI syntax. The machine stays open for inspection; call `close()` on it.
 */
export function runEntry(
  image: Image,
  entry: string,
  args: (bigint | string)[],
  opts: { regions?: Region[]; events?: string[]; machine?: MachineOptions; call?: Omit<CallOptions, 'events'> } = {},
): RunResult {
  const machine = Machine.create(image, opts.machine);
  const regions: Record<string, Address> = {};
  for (const r of opts.regions ?? []) {
    const init = new Uint8Array(r.size);
    (r.words ?? []).forEach((w, i) => new DataView(init.buffer).setBigUint64(i * 8, BigInt.asUintN(64, w), true));
    regions[r.name] = machine.allocate(r.name, r.size, init);
  }
  const resolved = args.map((a) => {
    if (typeof a === 'bigint') return a;
    const [name, off] = a.split('+');
    return regions[name!]! + BigInt(off ?? 0);
  });
  const events = (opts.events ?? []).map((e) => parseEvent(e, image, machine.cpus));
  const outcome = machine.call(address(image, entry), resolved, { ...opts.call, events });
  const memory: Record<string, bigint[]> = {};
  for (const r of opts.regions ?? []) memory[r.name] = words(machine.emu.read(regions[r.name]!, r.size));
  return { outcome, memory, regions, machine };
}

export function words(bytes: Uint8Array): bigint[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length >> 3 }, (_, i) => v.getBigUint64(i * 8, true));
}

/** Instruction start addresses in [from, to], from the image's line records. */
export function instructionsBetween(image: Image, from: Address, to: Address): Address[] {
  return image.lines.filter((l) => l.kind === 'instruction' && l.address >= from && l.address <= to).map((l) => l.address);
}

// Scenario → machine: assemble the source, map the regions with their initial words, spawn the
// threads with their arguments resolved against regions and symbols.
import { findSymbol, type Image } from '../asm/image.js';
import { RseqEmuError } from '../errors.js';
import { Machine, type MachineOptions } from '../kernel/machine.js';
import { parseProfile, type Profile } from '../kernel/profile.js';
import type { Address } from '../types.js';
import type { ArgValue, Scenario, ScenarioThread } from './scenario.js';

export function resolveArg(arg: ArgValue, machine: Machine, image: Image): bigint {
  if (arg.kind === 'number') return arg.value;
  const base: Address | undefined = machine.regions.get(arg.name)?.address ?? findSymbol(image, arg.name)?.address;
  if (base === undefined) throw new RseqEmuError('USAGE', `argument '${arg.name}': no memory region or symbol of that name`);
  return base + arg.offset;
}

export const initBytes = (size: number, words: readonly bigint[]): Uint8Array => {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  words.forEach((w, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, w), true));
  return b;
};

export function spawnThreads(machine: Machine, image: Image, threads: readonly ScenarioThread[]): void {
  for (const t of threads) {
    const entry = findSymbol(image, t.entry);
    if (!entry) throw new RseqEmuError('USAGE', `thread entry '${t.entry}' is not a symbol of ${image.file}`);
    machine.spawn({ entry: entry.address, args: t.args.map((a) => resolveArg(a, machine, image)), cpu: t.cpu, repeat: t.repeat });
  }
}

/** A fresh machine with the scenario's memory and threads, ready to run. */
export function instantiate(image: Image, scenario: Scenario, profile: Profile = parseProfile(scenario.profile ?? 'linux'), extra: Pick<MachineOptions, 'trackSpeculativeStores'> = {}): Machine {
  const machine = Machine.create(image, {
    ...extra,
    cpus: scenario.cpus,
    profile,
    registration: scenario.registration,
    ...(scenario.maxInstructions !== undefined ? { maxInstructions: scenario.maxInstructions } : {}),
    ...(scenario.timeSlice !== undefined ? { timeSlice: scenario.timeSlice } : {}),
  });
  try {
    machine.allocateAll(scenario.memory.map((r) => ({ name: r.name, size: r.size, init: initBytes(r.size, r.init) })));
    spawnThreads(machine, image, scenario.threads);
    return machine;
  } catch (e) {
    machine.close();
    throw e;
  }
}

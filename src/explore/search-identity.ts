// What makes two shard results parts of one search: the same scenario (its program and settings,
// wherever its files lie) and the same search options. `rseq-emu merge` refuses anything else, as
// units of different searches do not line up.
import { createHash } from 'node:crypto';
import type { Image } from '../asm/image.js';
import { parseProfile, profileName } from '../kernel/profile.js';
import { LIMITS } from '../limits.js';
import type { Scenario } from '../scenario/scenario.js';
import { ALL_DEVIATIONS } from './deviations.js';
import { KEEP_VIOLATIONS, usesStateCache, type ExploreOptions } from './explorer.js';

export interface SearchIdentity {
  /** sha256 of the program (section bytes, addresses, symbols) and the scenario without its file path. */
  scenarioHash: string;
  /** The options that decide which schedules are searched and what is kept, defaults filled in. */
  search: Record<string, string | number | boolean>;
}

/** JSON with bigints as decimal strings and keys in a fixed order, so equal values hash equally. */
function canonical(v: unknown): string {
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function scenarioHash(image: Image, scenario: Scenario): string {
  // The source path differs between checkouts (a CI runner, a pod): what it assembles to does not.
  // Line records name files too, so only what runs is hashed.
  const program = {
    sections: image.sections.filter((s) => s.flags.alloc).map((s) => ({ name: s.name, address: s.address, flags: s.flags, bytes: s.bytes })),
    tls: image.tls,
    symbols: image.symbols.map((s) => ({ name: s.name, address: s.address, section: s.section, instance: s.instance })),
    unresolved: image.unresolved.map((u) => ({ name: u.name, address: u.address })),
  };
  const { source: _source, ...settings } = scenario;
  return createHash('sha256').update(canonical({ program, settings })).digest('hex');
}

/** The identity of the search `options` describe on `scenario` (workers, timeout and shard excluded: they split or stop it). */
export function searchIdentity(image: Image, scenario: Scenario, options: ExploreOptions): SearchIdentity {
  const mode = options.mode ?? 'exhaustive';
  const search: Record<string, string | number | boolean> = {
    mode,
    ...(mode === 'exhaustive' ? { preemptions: options.preemptions ?? 2 } : { depth: options.depth ?? 3, runs: options.runs ?? 1000, seed: options.seed ?? 1 }),
    // The order of kinds is the order branches are tried, so it numbers the units.
    kinds: (options.kinds ?? ALL_DEVIATIONS).join(','),
    allSwitchPoints: options.allSwitchPoints === true,
    maxSchedules: options.maxSchedules ?? 1_000_000,
    scheduleBudget: options.scheduleBudget ?? 0,
    stopAtFirst: options.stopAtFirst === true,
    // Shards agree on the state cache, so their schedule counts add up to one kind of search.
    stateCache: mode === 'exhaustive' && usesStateCache(options),
    keepViolations: options.keepViolations ?? KEEP_VIOLATIONS,
    profile: profileName(options.profile ?? parseProfile(scenario.profile ?? 'linux')),
    // Limits bound what a run may do (threads, processes, output), so they can change outcomes.
    limits: Object.entries(LIMITS).map(([k, v]) => `${k}=${v}`).join(','),
  };
  return { scenarioHash: scenarioHash(image, scenario), search };
}

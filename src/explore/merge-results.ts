// Shard results and their merge. `explore --shard I/N --json` writes a shard record: the usual
// result plus the scenario's hash, the search options, the shard, and each violation's unit; merge
// checks that the records are all N shards of one search, once each, and joins them into the
// result the unsharded search reports: the same verdict and the same violations in the same order.
import { RseqEmuError } from '../errors.js';
import type { Violation } from './judge.js';
import { mergeViolations, type ExploreResult } from './explorer.js';
import type { SearchIdentity } from './search-identity.js';
import { formatShard, parseShard, type Shard } from './shard.js';

/** Names the record's layout; a later incompatible layout gets a new number. */
export const SHARD_FORMAT = 'rseq-emu-explore-shard/1';

export interface ShardViolation {
  kind: Violation['kind'];
  schedule: string;
  message: string;
  unit: number;
}

export interface ShardRecord {
  format: typeof SHARD_FORMAT;
  shard: Shard;
  scenario: { file: string; hash: string; timeSlice?: number };
  search: SearchIdentity['search'];
  schedules: number;
  seconds: number;
  complete: boolean;
  violationCount: number;
  workers: number;
  violations: ShardViolation[];
}

/** The fields `explore --shard --json` adds to (or, for violations, replaces in) its result. */
export function shardRecordFields(r: ExploreResult, identity: SearchIdentity, shard: Shard, file: string, timeSlice: number | undefined): Record<string, unknown> {
  return {
    format: SHARD_FORMAT,
    shard: formatShard(shard),
    scenario: { file, hash: identity.scenarioHash, ...(timeSlice !== undefined ? { timeSlice } : {}) },
    search: identity.search,
    violations: r.violations.map((v, i) => ({ kind: v.kind, schedule: v.schedule, message: v.message, unit: r.units[i] })),
  };
}

/** A field of a record that is not what the format says: one line naming the file and the field. */
const bad = (file: string, what: string) => new RseqEmuError('INPUT', `${file}: ${what} (not a result of 'rseq-emu explore --shard I/N --json'?)`);

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads one record from its JSON text; `file` names it in errors. */
export function readShardRecord(text: string, file: string): ShardRecord {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new RseqEmuError('INPUT', `${file}: not JSON: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw bad(file, 'expected a JSON object');
  const o = j as Record<string, unknown>;
  if (o.format !== SHARD_FORMAT) throw bad(file, o.format === undefined ? 'no "format" key' : `format ${JSON.stringify(o.format)}, expected "${SHARD_FORMAT}"`);
  if (typeof o.shard !== 'string') throw bad(file, '"shard" must be "I/N"');
  let shard: Shard;
  try {
    shard = parseShard(o.shard, `${file}: shard`);
  } catch (e) {
    throw new RseqEmuError('INPUT', (e as Error).message);
  }
  const sc = o.scenario as Record<string, unknown> | undefined;
  if (typeof sc !== 'object' || sc === null || typeof sc.hash !== 'string' || typeof sc.file !== 'string') throw bad(file, '"scenario" must hold "file" and "hash"');
  if (sc.timeSlice !== undefined && !isCount(sc.timeSlice)) throw bad(file, '"scenario.timeSlice" must be a whole number');
  const search = o.search as Record<string, unknown> | undefined;
  if (typeof search !== 'object' || search === null || Array.isArray(search) || !Object.values(search).every((v) => ['string', 'number', 'boolean'].includes(typeof v))) throw bad(file, '"search" must be an object of options');
  if (search.mode !== 'exhaustive' && search.mode !== 'pct') throw bad(file, '"search.mode" must be "exhaustive" or "pct"');
  for (const k of ['schedules', 'violationCount', 'workers'] as const) if (!isCount(o[k])) throw bad(file, `"${k}" must be a whole number`);
  if (typeof o.seconds !== 'number' || !(o.seconds >= 0)) throw bad(file, '"seconds" must be a number');
  if (typeof o.complete !== 'boolean') throw bad(file, '"complete" must be true or false');
  if (!Array.isArray(o.violations)) throw bad(file, '"violations" must be an array');
  const violations = o.violations.map((v: unknown, i): ShardViolation => {
    const x = v as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || typeof x.kind !== 'string' || typeof x.schedule !== 'string' || typeof x.message !== 'string' || !isCount(x.unit)) {
      throw bad(file, `violations[${i}] must hold "kind", "schedule", "message" and "unit"`);
    }
    return { kind: x.kind as Violation['kind'], schedule: x.schedule, message: x.message, unit: x.unit };
  });
  if (violations.length > (o.violationCount as number)) throw bad(file, `${violations.length} violations listed but "violationCount" is ${o.violationCount}`);
  return {
    format: SHARD_FORMAT,
    shard,
    scenario: { file: sc.file, hash: sc.hash, ...(sc.timeSlice !== undefined ? { timeSlice: sc.timeSlice as number } : {}) },
    search: search as ShardRecord['search'],
    schedules: o.schedules as number,
    seconds: o.seconds,
    complete: o.complete,
    violationCount: o.violationCount as number,
    workers: o.workers as number,
    violations,
  };
}

export interface MergedResult {
  result: ExploreResult;
  shards: number;
  /** The scenario file as the first shard named it, and its time slice (for replay lines). */
  scenarioFile: string;
  timeSlice: number | undefined;
}

const describeValue = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/**
 * Checks that `records` (each with the file it came from) are the shards 1 … N of one search, each
 * once, and merges them. Schedule counts add up; the time is the longest shard's.
 */
export function mergeShardRecords(records: readonly { file: string; record: ShardRecord }[]): MergedResult {
  if (records.length === 0) throw new RseqEmuError('USAGE', 'merge needs at least one RESULT.json');
  const first = records[0]!;
  const n = first.record.shard.count;
  const byIndex = new Map<number, string>();
  for (const { file, record } of records) {
    if (record.scenario.hash !== first.record.scenario.hash) {
      throw new RseqEmuError('INPUT', `${file}: a shard of another scenario (${record.scenario.file}, hash ${record.scenario.hash.slice(0, 12)}) than ${first.file} (${first.record.scenario.file}, hash ${first.record.scenario.hash.slice(0, 12)})`);
    }
    for (const key of new Set([...Object.keys(first.record.search), ...Object.keys(record.search)])) {
      if (record.search[key] !== first.record.search[key]) {
        throw new RseqEmuError('INPUT', `${file}: searched with ${key} ${describeValue(record.search[key])}, but ${first.file} with ${describeValue(first.record.search[key])}`);
      }
    }
    if (record.shard.count !== n) throw new RseqEmuError('INPUT', `${file}: shard ${formatShard(record.shard)}, but ${first.file} is shard ${formatShard(first.record.shard)}: shards of one search share N`);
    const seen = byIndex.get(record.shard.index);
    if (seen !== undefined) throw new RseqEmuError('INPUT', `shard ${formatShard(record.shard)} given twice: ${seen} and ${file}`);
    byIndex.set(record.shard.index, file);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) {
    const list = missing.length > 10 ? `${missing.slice(0, 10).join(', ')}, … (${missing.length} in all)` : missing.join(', ');
    throw new RseqEmuError('INPUT', `shard${missing.length === 1 ? '' : 's'} ${list} of ${n} missing: merge needs every shard's result`);
  }
  const search = first.record.search;
  const all = records.map((r) => r.record);
  const merged = mergeViolations(all.map((r) => r.violations), search.keepViolations as number, search.stopAtFirst === true);
  const violationCount = all.reduce((s, r) => s + r.violationCount, 0);
  const mode = search.mode as 'exhaustive' | 'pct';
  const result: ExploreResult = {
    verdict: violationCount ? 'fail' : 'pass',
    mode,
    schedules: all.reduce((s, r) => s + r.schedules, 0),
    seconds: Math.max(...all.map((r) => r.seconds)),
    complete: all.every((r) => r.complete),
    violations: merged.map(({ unit: _unit, ...v }) => v),
    units: merged.map((v) => v.unit),
    // Shard results carry no heat (it is for the HTML report, which merge does not write).
    heat: [],
    violationCount,
    profile: String(search.profile),
    workers: all.reduce((s, r) => s + r.workers, 0),
    ...(mode === 'exhaustive' ? { bound: search.preemptions as number } : { depth: search.depth as number, runs: search.runs as number, seed: search.seed as number }),
  };
  return { result, shards: n, scenarioFile: first.record.scenario.file, timeSlice: first.record.scenario.timeSlice };
}

// A scenario: the program, its CPUs and kernel profile, named memory regions, and the threads that
// call its operations. Read from JSON (the format of the exploration issue) or built from
// `--threads` specs; every mistake is one error naming where it is.
import { dirname, resolve } from 'node:path';
import { RseqEmuError } from '../errors.js';
import { readInputFile } from '../input-file.js';
import { jsonErrorAt } from './json-position.js';
import { LIMITS } from '../limits.js';

/** A thread argument: a number, or a memory region or symbol name with an optional +offset. */
export type ArgValue = { kind: 'number'; value: bigint } | { kind: 'name'; name: string; offset: bigint };

export interface ScenarioThread {
  entry: string;
  args: ArgValue[];
  cpu: number;
  repeat: number;
}

export interface ScenarioRegion {
  name: string;
  size: number;
  /** Initial u64 words. */
  init: bigint[];
}

export type Invariant = { region: string; sum64: bigint } | { region: string; equals64: bigint[] };

/**
 * Which bytes of a region later operations can read (the `observe` key). Offsets are bytes from the
 * region's start; `perCpu` repeats the layout every that many bytes, once per scenario CPU.
 *   bytes: [start, end)          always observable
 *   count + items                the count word (countSize bytes, little-endian) is observable, and
 *                                so are items 0 … count-1 (itemSize bytes each, `stride` apart from
 *                                `items`), at most `max` of them
 */
export type ObserveLayout =
  | { bytes: [number, number]; perCpu?: number }
  | { count: number; countSize: 1 | 2 | 4 | 8; items: number; itemSize: number; stride: number; max?: number; perCpu?: number };

export interface Scenario {
  /** Absolute path of the assembly source. */
  source: string;
  cpus: number;
  profile: string | undefined;
  registration: 'glibc' | 'none';
  memory: ScenarioRegion[];
  threads: ScenarioThread[];
  invariants: Invariant[];
  maxInstructions: number | undefined;
  /** The time slice in instructions (0: none); undefined for the machine's default. */
  timeSlice?: number | undefined;
  /** Observable bytes per region (or writable section, by name); regions left out follow the default rule. */
  observe?: Record<string, ObserveLayout[]>;
}

const fail = (where: string, why: string) => new RseqEmuError('INPUT', `${where}: ${why}`);


/** A value as an error message quotes it: short, so a huge input still gives one readable line. */
export function shortValue(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v !== null && typeof v === 'object') return 'an object';
  const text = typeof v === 'bigint' ? v.toString() : JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 40)}… (${text.length} characters)` : text;
}

/** Numbers are u64 words, or their two's-complement negatives: anything else would wrap silently. */
export function checkWord(n: bigint, where: string, error: (where: string, why: string) => Error = fail): bigint {
  if (n < -(1n << 63n) || n >= 1n << 64n) throw error(where, `${shortValue(n)} does not fit in 64 bits`);
  return n;
}

/** A whole number from JSON: a number, or a decimal or 0x string for values beyond 2^53. */
function integer(v: unknown, where: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?(0x[0-9a-f]+|[0-9]+)$/i.test(v.trim())) {
    const t = v.trim();
    return checkWord(t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t), where);
  }
  throw fail(where, `expected a whole number, found ${shortValue(v)}`);
}

function smallInt(v: unknown, where: string, min: number, max: number): number {
  const n = integer(v, where);
  if (n < BigInt(min) || n > BigInt(max)) throw fail(where, `must be ${min} to ${max}, not ${shortValue(n)}`);
  return Number(n);
}

export function parseArg(v: unknown, where: string): ArgValue {
  if (typeof v === 'string') {
    const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)(?:\+(0x[0-9a-f]+|[0-9]+))?$/i.exec(v.trim());
    if (m) return { kind: 'name', name: m[1]!, offset: m[2] === undefined ? 0n : checkWord(BigInt(m[2]), where) };
  }
  return { kind: 'number', value: integer(v, where) };
}

const KNOWN_KEYS = new Set(['source', 'cpus', 'profile', 'registration', 'memory', 'threads', 'invariants', 'maxInstructions', 'timeSlice', 'observe']);

/** Validates a parsed JSON object; `file` names the scenario in errors and anchors `source`. */
export function scenarioFromJson(json: unknown, file: string): Scenario {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail(file, 'a scenario is a JSON object');
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN_KEYS.has(k)) throw fail(`${file}: ${k}`, `unknown key (known: ${[...KNOWN_KEYS].join(', ')})`);
  if (typeof o.source !== 'string' || o.source === '') throw fail(`${file}: source`, 'the assembly file, relative to the scenario, is required');
  const cpus = o.cpus === undefined ? 2 : smallInt(o.cpus, `${file}: cpus`, 1, 64);
  if (o.profile !== undefined && typeof o.profile !== 'string') throw fail(`${file}: profile`, 'expected a string such as "linux,bug-kvm-run"');
  if (o.registration !== undefined && o.registration !== 'glibc' && o.registration !== 'none') throw fail(`${file}: registration`, 'expected "glibc" or "none"');
  const memory: ScenarioRegion[] = [];
  if (o.memory !== undefined) {
    if (typeof o.memory !== 'object' || o.memory === null || Array.isArray(o.memory)) throw fail(`${file}: memory`, 'expected an object of regions');
    const entries = Object.entries(o.memory as Record<string, unknown>);
    if (entries.length > LIMITS.regions) throw fail(`${file}: memory`, `${entries.length} regions, over the limit of ${LIMITS.regions}`);
    let total = 0;
    for (const [name, r] of entries) {
      const where = `${file}: memory.${name}`;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw fail(where, 'region names are identifiers');
      if (typeof r !== 'object' || r === null) throw fail(where, 'expected { "size": N, "init": [...] }');
      const rr = r as Record<string, unknown>;
      const size = smallInt(rr.size, `${where}.size`, 1, 1 << 26);
      const init = rr.init === undefined ? [] : Array.isArray(rr.init) ? rr.init.map((w, i) => integer(w, `${where}.init[${i}]`)) : [];
      if (rr.init !== undefined && !Array.isArray(rr.init)) throw fail(`${where}.init`, 'expected an array of u64 words');
      if (init.length * 8 > size) throw fail(`${where}.init`, `${init.length} words do not fit in ${size} bytes`);
      total += size;
      if (total > LIMITS.regionBytes) throw fail(where, `the regions together exceed the limit of ${LIMITS.regionBytes} bytes`);
      memory.push({ name, size, init });
    }
  }
  if (!Array.isArray(o.threads) || o.threads.length === 0) throw fail(`${file}: threads`, 'expected a non-empty array of threads');
  if (o.threads.length > LIMITS.threads) throw fail(`${file}: threads`, `${o.threads.length} threads, over the limit of ${LIMITS.threads}`);
  const threads = o.threads.map((t, i) => {
    const where = `${file}: threads[${i}]`;
    if (typeof t !== 'object' || t === null) throw fail(where, 'expected { "entry": SYMBOL, "args": [...], "cpu": N }');
    const tt = t as Record<string, unknown>;
    if (typeof tt.entry !== 'string') throw fail(`${where}.entry`, 'expected a symbol name');
    if (tt.args !== undefined && !Array.isArray(tt.args)) throw fail(`${where}.args`, 'expected an array');
    const args = ((tt.args as unknown[] | undefined) ?? []).map((a, k) => parseArg(a, `${where}.args[${k}]`));
    if (args.length > 6) throw fail(`${where}.args`, 'at most 6 arguments are passed in registers');
    return {
      entry: tt.entry,
      args,
      cpu: tt.cpu === undefined ? 0 : smallInt(tt.cpu, `${where}.cpu`, 0, cpus - 1),
      repeat: tt.repeat === undefined ? 1 : smallInt(tt.repeat, `${where}.repeat`, 1, 1_000_000),
    };
  });
  const invariants: Invariant[] = [];
  if (o.invariants !== undefined) {
    if (!Array.isArray(o.invariants)) throw fail(`${file}: invariants`, 'expected an array');
    o.invariants.forEach((inv, i) => {
      const where = `${file}: invariants[${i}]`;
      const v = inv as Record<string, unknown>;
      if (typeof v !== 'object' || v === null || typeof v.region !== 'string') throw fail(where, 'expected { "region": NAME, "sum64": N } or { "region": NAME, "equals64": [...] }');
      if (!memory.some((m) => m.name === v.region)) throw fail(`${where}.region`, `no memory region '${v.region}'`);
      if (v.sum64 !== undefined) invariants.push({ region: v.region, sum64: integer(v.sum64, `${where}.sum64`) });
      else if (Array.isArray(v.equals64)) invariants.push({ region: v.region, equals64: v.equals64.map((w, k) => integer(w, `${where}.equals64[${k}]`)) });
      else throw fail(where, 'expected "sum64" or "equals64"');
    });
  }
  const observe = o.observe === undefined ? {} : parseObserve(o.observe, `${file}: observe`, memory, cpus);
  return {
    source: resolve(dirname(file), o.source),
    cpus,
    profile: o.profile as string | undefined,
    registration: (o.registration as 'glibc' | 'none' | undefined) ?? 'glibc',
    memory,
    threads,
    invariants,
    maxInstructions: o.maxInstructions === undefined ? undefined : smallInt(o.maxInstructions, `${file}: maxInstructions`, 1, 1_000_000_000),
    timeSlice: o.timeSlice === undefined ? undefined : smallInt(o.timeSlice, `${file}: timeSlice`, 0, 1_000_000_000),
    observe,
  };
}

const LAYOUT_KEYS = new Set(['bytes', 'count', 'countSize', 'items', 'itemSize', 'stride', 'max', 'perCpu']);
const LAYOUT_FORMS = '{ "bytes": [START, END] } or { "count": OFFSET, "items": OFFSET, ... }';

/** `observe`: { REGION: [LAYOUT, ...] }; a memory region must fit its layouts, a section name (`.data`) is checked against the image. */
function parseObserve(v: unknown, where: string, memory: readonly ScenarioRegion[], cpus: number): Record<string, ObserveLayout[]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail(where, 'expected an object of regions, each an array of layouts');
  const out: Record<string, ObserveLayout[]> = {};
  for (const [name, list] of Object.entries(v as Record<string, unknown>)) {
    const at = `${where}.${name}`;
    const region = memory.find((m) => m.name === name);
    if (!region && !name.startsWith('.')) throw fail(at, `no memory region '${name}' (writable sections are named with their dot, such as .data)`);
    if (!Array.isArray(list)) throw fail(at, `expected an array of layouts, each ${LAYOUT_FORMS}`);
    out[name] = list.map((l, i) => {
      const layout = parseLayout(l, `${at}[${i}]`);
      if (region) {
        const end = layoutExtent(layout) + (layout.perCpu ?? 0) * (cpus - 1);
        if (end > region.size) throw fail(`${at}[${i}]`, `reaches byte ${end} of a ${region.size}-byte region`);
      }
      return layout;
    });
  }
  return out;
}

function parseLayout(l: unknown, where: string): ObserveLayout {
  if (typeof l !== 'object' || l === null || Array.isArray(l)) throw fail(where, `expected ${LAYOUT_FORMS}`);
  const o = l as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!LAYOUT_KEYS.has(k)) throw fail(`${where}.${k}`, `unknown key (known: ${[...LAYOUT_KEYS].join(', ')})`);
  const perCpu = o.perCpu === undefined ? {} : { perCpu: smallInt(o.perCpu, `${where}.perCpu`, 1, 1 << 26) };
  if (o.bytes !== undefined) {
    for (const k of ['count', 'countSize', 'items', 'itemSize', 'stride', 'max']) if (o[k] !== undefined) throw fail(`${where}.${k}`, 'does not go with "bytes"');
    if (!Array.isArray(o.bytes) || o.bytes.length !== 2) throw fail(`${where}.bytes`, 'expected [START, END], END exclusive');
    const start = smallInt(o.bytes[0], `${where}.bytes[0]`, 0, 1 << 26);
    const end = smallInt(o.bytes[1], `${where}.bytes[1]`, start, 1 << 26);
    return { bytes: [start, end], ...perCpu };
  }
  if (o.count === undefined || o.items === undefined) throw fail(where, `expected ${LAYOUT_FORMS}`);
  const countSize = o.countSize === undefined ? 8 : smallInt(o.countSize, `${where}.countSize`, 1, 8);
  if (![1, 2, 4, 8].includes(countSize)) throw fail(`${where}.countSize`, `must be 1, 2, 4 or 8, not ${countSize}`);
  const itemSize = o.itemSize === undefined ? 8 : smallInt(o.itemSize, `${where}.itemSize`, 1, 1 << 20);
  const stride = o.stride === undefined ? itemSize : smallInt(o.stride, `${where}.stride`, itemSize, 1 << 26);
  return {
    count: smallInt(o.count, `${where}.count`, 0, 1 << 26),
    countSize: countSize as 1 | 2 | 4 | 8,
    items: smallInt(o.items, `${where}.items`, 0, 1 << 26),
    itemSize,
    stride,
    ...(o.max === undefined ? {} : { max: smallInt(o.max, `${where}.max`, 0, 1 << 26) }),
    ...perCpu,
  };
}

/** The first byte past a layout's first copy (for a count without `max`: its count word). */
export function layoutExtent(l: ObserveLayout): number {
  if ('bytes' in l) return l.bytes[1];
  const items = l.max === undefined ? 0 : l.max === 0 ? l.items : l.items + (l.max - 1) * l.stride + l.itemSize;
  return Math.max(l.count + l.countSize, items);
}

/** Reads a scenario file; JSON syntax errors name the line and column. */
export async function loadScenario(path: string): Promise<Scenario> {
  const text = await readInputFile(path, 'a scenario', LIMITS.scenarioBytes);
  const bad = jsonErrorAt(text, LIMITS.jsonDepth);
  if (bad) {
    const line = text.slice(0, bad.offset).split('\n').length;
    const column = bad.offset - text.lastIndexOf('\n', bad.offset - 1);
    throw new RseqEmuError('INPUT', `invalid JSON: ${bad.message}`, { file: path, line, column });
  }
  return scenarioFromJson(JSON.parse(text), path);
}

/** `ENTRY(ARG,...)[@CPU][*REPEAT]`, several separated by `;`: the `--threads` option. */
export function parseThreadSpecs(text: string, cpus: number): ScenarioThread[] {
  const parts = text.split(';');
  if (parts.length > LIMITS.threads) throw new RseqEmuError('USAGE', `--threads: ${parts.length} threads, over the limit of ${LIMITS.threads}`);
  return parts.map((part, i) => {
    const where = `--threads item ${i + 1} '${part.trim()}'`;
    const m = /^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*(?:\(([^)]*)\))?\s*(?:@\s*([0-9]+))?\s*(?:\*\s*([0-9]+))?\s*$/.exec(part);
    if (!m) throw new RseqEmuError('USAGE', `${where}: expected ENTRY(ARG,...)[@CPU][*REPEAT]`);
    const args = m[2] === undefined || m[2].trim() === '' ? [] : m[2].split(',').map((a, k) => parseArg(a.trim(), `${where} argument ${k + 1}`));
    const cpu = m[3] === undefined ? 0 : Number(m[3]);
    if (cpu >= cpus) throw new RseqEmuError('USAGE', `${where}: CPU ${cpu} does not exist (--cpus ${cpus})`);
    const repeat = m[4] === undefined ? 1 : Number(m[4]);
    if (repeat < 1) throw new RseqEmuError('USAGE', `${where}: repeat must be at least 1`);
    return { entry: m[1]!, args, cpu, repeat };
  });
}

/** `NAME:SIZE[:W,W,...]`: the `--memory` option, a zeroed region optionally starting with u64 words. */
export function parseMemorySpec(text: string): ScenarioRegion {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):(0x[0-9a-f]+|[0-9]+)(?::(.*))?$/i.exec(text);
  if (!m) throw new RseqEmuError('USAGE', `--memory '${text}' is not NAME:SIZE[:W,W,...]`);
  const size = Number(m[2]);
  if (size < 1 || size > 1 << 26) throw new RseqEmuError('USAGE', `--memory '${text}': size must be 1 to 64 MiB`);
  const init = m[3] === undefined || m[3] === '' ? [] : m[3].split(',').map((w) => {
    const a = parseArg(w, `--memory ${m[1]}`);
    if (a.kind !== 'number') throw new RseqEmuError('USAGE', `--memory '${text}': '${w}' is not a number`);
    return a.value;
  });
  if (init.length * 8 > size) throw new RseqEmuError('USAGE', `--memory '${text}': ${init.length} words do not fit in ${size} bytes`);
  return { name: m[1]!, size, init };
}

// Every bound on what one input may ask of the host, in one table: checked before anything is
// allocated for it, each with a default a real rseq program never meets and a ceiling the host
// can still honour. `--limit NAME=N[,NAME=N]` sets them for one command (README, "Limits").
import { RseqEmuError } from './errors.js';

interface LimitSpec {
  value: number;
  /** The largest value a user may set (Unicorn aborts near 4,096 mappings, for one). */
  max: number;
  what: string;
}

const SPECS = {
  sourceBytes: { value: 16 << 20, max: 1 << 30, what: 'bytes of an assembly source file' },
  scenarioBytes: { value: 1 << 20, max: 1 << 28, what: 'bytes of a scenario file' },
  jsonDepth: { value: 64, max: 4096, what: 'nesting levels of scenario JSON' },
  threads: { value: 256, max: 4096, what: 'threads a scenario or --threads starts' },
  regions: { value: 256, max: 1024, what: 'memory regions of a scenario' },
  regionBytes: { value: 256 << 20, max: 4 * 2 ** 30, what: 'bytes of all memory regions together' },
  imageBytes: { value: 256 << 20, max: 4 * 2 ** 30, what: 'bytes of all sections of the image, .bss included' },
  expandedStatements: { value: 1_000_000, max: 50_000_000, what: 'statements that .rept, .irp, .irpc and macros expand to' },
  setDepth: { value: 1000, max: 5000, what: 'levels of .set symbols defined through one another' },
  preprocessBytes: { value: 64 << 20, max: 1 << 30, what: 'bytes of C preprocessor output' },
  preprocessMemoryKiB: { value: 1 << 20, max: 16 << 20, what: 'KiB of memory for the C preprocessor' },
  preprocessSeconds: { value: 30, max: 3600, what: 'seconds for the C preprocessor' },
  mappings: { value: 1024, max: 3000, what: 'mappings of one address space' },
  liveThreads: { value: 256, max: 1024, what: 'live threads of a machine (clone fails with EAGAIN past it)' },
  liveProcesses: { value: 64, max: 512, what: 'live and zombie processes (fork fails with EAGAIN past it)' },
  processesPerRun: { value: 256, max: 2048, what: 'processes one run may create' },
  traceSteps: { value: 200_000, max: 100_000_000, what: 'instructions a trace records' },
  outputBytes: { value: 16 << 20, max: 1 << 30, what: 'bytes of captured program output' },
  tableEntries: { value: 65_536, max: 1 << 24, what: 'entries of one rseq table (__rseq_cs, __rseq_cs_ptr_array, __rseq_table, __rseq_exit_point_array)' },
  resultBytes: { value: 64 << 20, max: 1 << 30, what: 'bytes of an explore result that merge reads' },
  stateCacheEntries: { value: 2_000_000, max: 50_000_000, what: 'states the exhaustive search remembers, in one table its worker threads share (68 bytes each, plus an index of up to 22 bytes per allowed entry)' },
} satisfies Record<string, LimitSpec>;

export type LimitName = keyof typeof SPECS;

/** The limits in force; modules read them when they check, so a change applies everywhere. */
export const LIMITS: Record<LimitName, number> = Object.fromEntries(Object.entries(SPECS).map(([k, s]) => [k, s.value])) as Record<LimitName, number>;

export const DEFAULT_LIMITS: Readonly<Record<LimitName, number>> = { ...LIMITS };

export const limitDescriptions = (): { name: LimitName; value: number; max: number; what: string }[] =>
  (Object.entries(SPECS) as [LimitName, LimitSpec][]).map(([name, s]) => ({ name, value: s.value, max: s.max, what: s.what }));

/** Parses `NAME=N[,NAME=N]` (N decimal, 0x hex, or with a K/M/G suffix) into limit values. */
export function parseLimits(text: string): Partial<Record<LimitName, number>> {
  const out: Partial<Record<LimitName, number>> = {};
  for (const item of text.split(',')) {
    const m = /^\s*([A-Za-z]+)\s*=\s*(0x[0-9a-f]+|[0-9]+)([KMG]?)\s*$/i.exec(item);
    if (!m) throw new RseqEmuError('USAGE', `--limit '${item}' is not NAME=N`);
    const name = m[1]! as LimitName;
    const spec: LimitSpec | undefined = (SPECS as Record<string, LimitSpec>)[name];
    if (!spec) throw new RseqEmuError('USAGE', `--limit: unknown limit '${m[1]}' (known: ${Object.keys(SPECS).join(', ')})`);
    const value = Number(m[2]) * { '': 1, K: 1024, M: 1 << 20, G: 1 << 30 }[m[3]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
    if (!(value >= 1 && value <= spec.max)) throw new RseqEmuError('USAGE', `--limit ${name} must be 1 to ${spec.max}, not ${value}`);
    out[name] = value;
  }
  return out;
}

/** Sets limits for the rest of the process (the CLI's --limit; explore's workers get the same). */
export function applyLimits(values: Partial<Record<LimitName, number>>): void {
  Object.assign(LIMITS, values);
}

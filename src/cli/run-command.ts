// `rseq-emu run FILE --entry SYM [--arg V]... [--memory NAME:SIZE[:W,W...]]... [--cpu N] [--cpus N]
//  [--registration glibc|none] [--event KIND@WHERE]... [--max-insns N] [--trace] [--json]`
import { findSymbol, type Image } from '../asm/image.js';
import { readRseqTables } from '../abi/tables.js';
import { usageError } from '../errors.js';
import { parseEvent } from '../kernel/event-spec.js';
import { Machine, type Registration } from '../kernel/machine.js';
import type { RunOutcome } from '../kernel/outcome.js';
import { loadProgram } from '../program.js';
import { runJson, runText, type MemoryDump } from '../report/run-report.js';
import type { Address } from '../types.js';
import { all, integerOption, one, parseArgs } from './args.js';

export const RUN_USAGE =
  'rseq-emu run FILE --entry SYM [--arg V]... [--memory NAME:SIZE[:W,W...]]... [--cpu N] [--cpus N] ' +
  '[--registration glibc|none] [--event KIND@WHERE]... [--max-insns N] [--trace] [--json]';

const SPEC = {
  entry: { value: true }, arg: { value: true, repeat: true }, memory: { value: true, repeat: true }, cpu: { value: true },
  cpus: { value: true }, registration: { value: true }, event: { value: true, repeat: true }, 'max-insns': { value: true },
  trace: {}, json: {},
};

/** `NAME:SIZE[:W,W,...]`: a zeroed region of SIZE bytes, optionally starting with u64 words. */
function parseMemory(text: string): { name: string; size: number; init: Uint8Array } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):(0x[0-9a-f]+|[0-9]+)(?::(.*))?$/i.exec(text);
  if (!m) throw usageError(`--memory '${text}' is not NAME:SIZE[:W,W,...]`);
  const size = Number(m[2]);
  const words = m[3] === undefined || m[3] === '' ? [] : m[3].split(',');
  if (words.length * 8 > size) throw usageError(`--memory '${text}': ${words.length} words do not fit in ${size} bytes`);
  const init = new Uint8Array(Math.max(size, 0));
  const v = new DataView(init.buffer);
  words.forEach((w, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, parseNumber(w, `--memory ${m[1]}`)), true));
  return { name: m[1]!, size, init };
}

function parseNumber(text: string, what: string): bigint {
  if (!/^-?(0x[0-9a-f]+|[0-9]+)$/i.test(text.trim())) throw usageError(`${what}: '${text}' is not a number`);
  const t = text.trim();
  return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
}

/** An argument: a number, or NAME[+OFFSET] naming a --memory region or a symbol of the image. */
function parseArgValue(text: string, machine: Machine, image: Image): bigint {
  if (/^-?(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return parseNumber(text, '--arg');
  const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)(?:\+(0x[0-9a-f]+|[0-9]+))?$/i.exec(text);
  if (!m) throw usageError(`--arg '${text}' is not a number or NAME[+OFFSET]`);
  const base: Address | undefined = machine.regions.get(m[1]!)?.address ?? findSymbol(image, m[1]!)?.address;
  if (base === undefined) throw usageError(`--arg '${text}': no --memory region or symbol named '${m[1]}'`);
  return base + (m[2] === undefined ? 0n : BigInt(m[2]));
}

export async function runCommand(argv: readonly string[], print: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, SPEC);
  if (a.positionals.length !== 1) throw usageError(`usage: ${RUN_USAGE}`);
  const entryName = one(a, 'entry');
  if (!entryName) throw usageError('--entry SYM is required');
  const registration = one(a, 'registration') ?? 'glibc';
  if (registration !== 'glibc' && registration !== 'none') throw usageError(`--registration must be glibc or none, not '${registration}'`);
  const cpus = integerOption(one(a, 'cpus'), 'cpus', 2, 1, 4096);
  const cpu = integerOption(one(a, 'cpu'), 'cpu', 0, 0, cpus - 1);
  const maxInstructions = integerOption(one(a, 'max-insns'), 'max-insns', 1_000_000, 1, 1_000_000_000);
  const memories = all(a, 'memory').map(parseMemory);

  const image = await loadProgram(a.positionals[0]!);
  const entry = findSymbol(image, entryName);
  if (!entry) throw usageError(`no symbol '${entryName}' in ${image.file}`);
  const events = all(a, 'event').map((e) => parseEvent(e, image, cpus));
  const machine = Machine.create(image, { cpus, registration: registration as Registration, maxInstructions });
  try {
    for (const m of memories) machine.allocate(m.name, m.size, m.init);
    const args = all(a, 'arg').map((t) => parseArgValue(t, machine, image));
    const outcome: RunOutcome = machine.call(entry.address, args, { cpu, events, trace: a.flags.has('trace') });
    const dumps: MemoryDump[] = [...machine.regions].map(([name, r]) => ({ name, address: r.address, bytes: machine.emu.read(r.address, r.size) }));
    const tables = readRseqTables(image);
    print(a.flags.has('json') ? JSON.stringify(runJson(outcome, dumps), null, 2) + '\n' : runText(image, tables, outcome, dumps));
    return outcome.status === 'returned' || (outcome.status === 'exited' && outcome.exitCode === 0) ? 0 : 1;
  } finally {
    machine.close();
  }
}

// Kernel events the user injects: `preempt@LOC`, `migrate:N@LOC`, `signal@LOC`, where LOC is
// `LABEL[+OFFSET]` (any label, `.L` ones included), `N[:K][+OFFSET]` (numeric label `N:`, or its
// K-th definition), `0xADDRESS`, or `#K` (before the K-th executed instruction). Each fires once,
// the first time its location is reached.
import { findSymbol, lineAt, type Image } from '../asm/image.js';
import { RseqEmuError } from '../errors.js';
import { hex, type Address, type CpuId } from '../types.js';

export type EventAction = { kind: 'preempt' } | { kind: 'migrate'; cpu: CpuId } | { kind: 'signal'; signal: number };

export type EventPlace = { at: 'address'; address: Address } | { at: 'count'; index: number };

export interface EventSpec {
  action: EventAction;
  place: EventPlace;
  /** As the user wrote it, for reports. */
  text: string;
}

export const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
/** Names by number, made once: each injected signal's spec names it. */
const SIGNAL_NAMES = new Map(Object.entries(SIGNALS).map(([name, n]) => [n, name]));

export const signalName = (n: number): string => SIGNAL_NAMES.get(n) ?? `SIG${n}`;

const bad = (text: string, why: string) => new RseqEmuError('LOCATION', `bad event '${text}': ${why}`);

function parseAction(text: string, kind: string): EventAction {
  if (kind === 'preempt') return { kind: 'preempt' };
  const migrate = /^migrate:([0-9]+)$/.exec(kind);
  if (migrate) return { kind: 'migrate', cpu: Number(migrate[1]) };
  const signal = /^signal(?::(SIG[A-Z0-9]+|[0-9]+))?$/.exec(kind);
  if (signal) {
    const s = signal[1] ?? 'SIGUSR1';
    const n = /^[0-9]+$/.test(s) ? Number(s) : SIGNALS[s];
    if (n === undefined || n < 1 || n > 64) throw bad(text, `unknown signal '${s}'`);
    return { kind: 'signal', signal: n };
  }
  throw bad(text, `unknown kind '${kind}' (expected preempt, migrate:N or signal)`);
}

/** Parses and resolves an event against the image; the location must be an instruction's first byte. */
export function parseEvent(text: string, image: Image, cpus: number): EventSpec {
  const at = text.lastIndexOf('@');
  if (at < 0) throw bad(text, 'expected KIND@WHERE, e.g. preempt@counter_add+4');
  const action = parseAction(text, text.slice(0, at));
  if (action.kind === 'migrate' && action.cpu >= cpus) throw bad(text, `CPU ${action.cpu} does not exist (--cpus ${cpus})`);
  const where = text.slice(at + 1);
  const count = /^#([0-9]+)$/.exec(where);
  if (count) {
    const index = Number(count[1]);
    if (index < 1) throw bad(text, 'instruction numbers start at #1');
    return { action, place: { at: 'count', index }, text };
  }
  return { action, place: { at: 'address', address: resolveLocation(where, image, text) }, text };
}

export function resolveLocation(where: string, image: Image, text = where): Address {
  let address: Address;
  const numeric = /^([0-9]+)(?::([0-9]+))?(?:([+-])(0x[0-9a-f]+|[0-9]+))?$/i.exec(where);
  if (/^0x[0-9a-f]+$/i.test(where)) address = BigInt(where);
  else if (numeric) {
    // A numeric label `N:`: `N` when the source defines it once, `N:K` for its K-th definition.
    const defs = image.symbols.filter((s) => s.instance !== undefined && s.name === numeric[1]).sort((a, b) => a.instance! - b.instance!);
    if (defs.length === 0) throw bad(text, `no numeric label '${numeric[1]}:' in ${image.file}`);
    const k = numeric[2] === undefined ? null : Number(numeric[2]);
    if (k === null && defs.length > 1) throw bad(text, `'${numeric[1]}:' is defined ${defs.length} times; write ${numeric[1]}:K for its K-th definition (1 to ${defs.length})`);
    const def = defs[(k ?? 1) - 1];
    if (!def) throw bad(text, `'${numeric[1]}:' is defined ${defs.length} time${defs.length > 1 ? 's' : ''}, so ${numeric[1]}:${k} does not exist`);
    const off = numeric[4] === undefined ? 0n : BigInt(numeric[4]);
    address = numeric[3] === '-' ? def.address - off : def.address + off;
  } else {
    if (/^[0-9]+[fb]/.test(where)) throw bad(text, `'${where}': 1f/1b need a place to count from; write N (a numeric label defined once) or N:K (its K-th definition)`);
    const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)(?:([+-])(0x[0-9a-f]+|[0-9]+))?$/i.exec(where);
    if (!m) throw bad(text, `'${where}' is not LABEL[+OFFSET], N[:K][+OFFSET], 0xADDRESS or #K`);
    const sym = findSymbol(image, m[1]!);
    if (!sym) throw bad(text, `no label '${m[1]}' in ${image.file}`);
    const off = m[3] === undefined ? 0n : BigInt(m[3]);
    address = m[2] === '-' ? sym.address - off : sym.address + off;
  }
  const line = lineAt(image, address);
  if (!line || line.kind !== 'instruction' || line.address !== address) {
    throw bad(text, `${hex(address)} is not the first byte of an instruction`);
  }
  return address;
}

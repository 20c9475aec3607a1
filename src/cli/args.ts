// A small argv parser: `--name value`, `--name=value`, repeatable options, boolean flags and
// positionals. Unknown options are usage errors, never ignored.
import { usageError } from '../errors.js';

export interface OptionSpec {
  /** Takes a value (else a boolean flag). */
  value?: boolean;
  /** May be given more than once. */
  repeat?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw usageError(`unknown option --${name}`);
    if (!s.value) {
      if (eq >= 0) throw usageError(`--${name} takes no value`);
      out.flags.add(name);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw usageError(`--${name} needs a value`);
    const list = out.options.get(name) ?? [];
    if (list.length && !s.repeat) throw usageError(`--${name} given twice`);
    list.push(value);
    out.options.set(name, list);
  }
  return out;
}

export const one = (a: ParsedArgs, name: string): string | undefined => a.options.get(name)?.[0];
export const all = (a: ParsedArgs, name: string): string[] => a.options.get(name) ?? [];

/** A whole number in decimal or 0x hex, within [min, max]. */
export function integerOption(text: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw usageError(`--${name} must be a whole number, not '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw usageError(`--${name} must be ${min} to ${max}, not ${n}`);
  return n;
}

/** Why a command that takes exactly one file did not get one, as one line. */
export function positionalProblem(positionals: readonly string[], what: string): string {
  return positionals.length === 0 ? `missing ${what}` : `expected one ${what}, got ${positionals.length}: ${positionals.map((p) => `'${p}'`).join(' ')}`;
}

// `--limit NAME=N[,NAME=N]`, which every command accepts anywhere among its arguments.
import { usageError } from '../errors.js';

/** The arguments with the `--limit` options taken out (before the command reads its own), and their values. */
export function takeLimits(argv: readonly string[]): { rest: string[]; limits: string[] } {
  const rest: string[] = [];
  const limits: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--limit' || a.startsWith('--limit=')) {
      const value = a === '--limit' ? argv[++i] : a.slice('--limit='.length);
      if (value === undefined) throw usageError('--limit needs NAME=N');
      limits.push(value);
    } else rest.push(a);
  }
  return { rest, limits };
}

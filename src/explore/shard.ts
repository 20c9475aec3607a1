// Shards: `--shard I/N` runs the I-th of N disjoint parts of a search, on any machine, so a search
// too big for one host runs on many and `rseq-emu merge` joins the results. A shard is the same
// deterministic split of top-level branches (or PCT runs) the worker threads use, one level up.
import { usageError } from '../errors.js';
import type { Share } from './exhaustive.js';

/** Shard `index` (1-based, as written on the command line) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * At most this many shards: far more than there are top-level branches in any bundled search
 * (a shard with no branch is valid, it just finds nothing), and small enough that shards times
 * workers stays a safe integer divisor for `shareOf`.
 */
export const MAX_SHARDS = 65_536;

/** Parses `I/N` (1 ≤ I ≤ N ≤ MAX_SHARDS); `what` names the option in errors. */
export function parseShard(text: string, what = '--shard'): Shard {
  const m = /^\s*([0-9]+)\s*\/\s*([0-9]+)\s*$/.exec(text);
  if (!m) throw usageError(`${what} must be I/N (shard I of N, numbered from 1), not '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw usageError(`${what} ${text}: N must be 1 to ${MAX_SHARDS}, not ${count}`);
  if (index < 1 || index > count) throw usageError(`${what} ${text}: I must be 1 to ${count} (shards are numbered from 1), not ${index}`);
  return { index, count };
}

export const formatShard = (s: Shard): string => `${s.index}/${s.count}`;

/** The whole search: the one shard of one. */
export const WHOLE: Shard = { index: 1, count: 1 };

/**
 * The share of worker `part` of `of` inside shard `shard`. A unit belongs to share p/m when
 * `shareOf(unit, m) === p` (a hash modulo m); taking the worker shares of shard i (0-based) of n
 * as i + n·w of n·W keeps exactly the units whose hash is i modulo n — the shard's own units —
 * since n divides n·W, and splits them among the W workers by the hash's quotient. Using p = w of
 * W inside the shard instead would correlate the two splits (with n = W = 2, worker 1 of shard 0
 * would get nothing).
 */
export function shareWithin(shard: Shard, part: number, of: number): Share {
  return { part: shard.index - 1 + shard.count * part, of: shard.count * of };
}

/** The shard's own share, searched by one thread. */
export const shardShare = (shard: Shard): Share => shareWithin(shard, 0, 1);

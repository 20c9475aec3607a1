// `rseq-emu merge RESULT.json...`: joins the results of `explore --shard I/N --json` into the
// verdict and violations of the whole search. Exit status as explore's.
import { usageError } from '../errors.js';
import { mergeShardRecords, readShardRecord } from '../explore/merge-results.js';
import { readInputFile } from '../input-file.js';
import { LIMITS } from '../limits.js';
import { mergeJson, mergeText } from '../report/merge-report.js';
import { parseArgs } from './args.js';

export async function mergeCommand(argv: readonly string[], print: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, { json: {} });
  if (a.positionals.length === 0) throw usageError('missing RESULT.json (the --json output of each explore --shard I/N)');
  const records = [];
  for (const file of a.positionals) records.push({ file, record: readShardRecord(await readInputFile(file, 'a shard result', LIMITS.resultBytes), file) });
  const merged = mergeShardRecords(records);
  print(a.flags.has('json') ? JSON.stringify(mergeJson(merged), null, 2) + '\n' : mergeText(merged));
  return merged.result.verdict === 'pass' ? 0 : 1;
}

// What `rseq-emu merge` prints: the lines `explore` prints for the merged search — each violation
// with its replay command, then the verdict — without traces, which need the program; the JSON is
// explore's with the number of shards.
import type { MergedResult } from '../explore/merge-results.js';
import { exploreJson } from './explore-report.js';

/** Violations listed one by one, as explore does; the rest are counted. */
const SHOWN = 20;

export function mergeJson(m: MergedResult): Record<string, unknown> {
  return { ...exploreJson(m.result), shards: m.shards };
}

export function mergeText(m: MergedResult): string {
  const r = m.result;
  const out: string[] = [];
  for (const v of r.violations.slice(0, SHOWN)) {
    out.push(`${v.kind}: ${v.message}`);
    out.push(`  replay: --schedule '${v.schedule}'${m.timeSlice !== undefined ? ` --time-slice ${m.timeSlice}` : ''}`);
  }
  if (r.violationCount > SHOWN) out.push(`… and ${r.violationCount - SHOWN} more violation${r.violationCount - SHOWN === 1 ? '' : 's'}`);
  if (r.violations.length) out.push(`(a trace: rseq-emu run ${m.scenarioFile} --schedule '…' --trace)`);
  const space = r.mode === 'exhaustive' ? `every schedule within ${r.bound} deviation${r.bound === 1 ? '' : 's'}` : `PCT depth ${r.depth}, ${r.runs} runs, seed ${r.seed}`;
  out.push(`${r.verdict}: ${r.schedules} schedule${r.schedules === 1 ? '' : 's'} (${space}${r.complete ? '' : ', stopped early'}) in ${m.shards} shard${m.shards === 1 ? '' : 's'}, the longest ${r.seconds.toFixed(2)} s on ${r.workers} thread${r.workers === 1 ? '' : 's'} in all, ${r.violationCount} violation${r.violationCount === 1 ? '' : 's'}, profile ${r.profile}`);
  return out.join('\n') + '\n';
}

// What `rseq-emu explore` prints: the verdict and counts, one line per violation, and for the first
// few a replayed trace with the memory that differs from the closest serial order.
import type { Image } from '../asm/image.js';
import type { RseqTables } from '../abi/tables.js';
import { append, elide } from './repetition.js';
import { describeDiff, describeOrder, type Violation } from '../explore/judge.js';
import type { ExploreResult, RoundReason } from '../explore/explorer.js';
import { sharedMemory } from '../explore/oracle.js';
import type { Profile } from '../kernel/profile.js';
import { parseSchedule } from '../kernel/schedule.js';
import type { Scenario } from '../scenario/scenario.js';
import { instantiate } from '../scenario/setup.js';
import { activityLines } from './run-report.js';

export function exploreJson(r: ExploreResult): Record<string, unknown> {
  return {
    verdict: r.verdict,
    schedules: r.schedules,
    seconds: Math.round(r.seconds * 1000) / 1000,
    violations: r.violations.map((v) => ({ kind: v.kind, schedule: v.schedule, message: v.message })),
    violationCount: r.violationCount,
    complete: r.complete,
    mode: r.mode,
    profile: r.profile,
    workers: r.workers,
    ...(r.bound !== undefined ? { preemptions: r.bound } : {}),
    ...(r.stateCache ? { stateCache: r.stateCache } : {}),
    ...(r.scratchRounds ? { scratchRounds: r.scratchRounds, roundReasons: r.roundReasons ?? [] } : {}),
    ...(r.seed !== undefined ? { seed: r.seed, depth: r.depth, runs: r.runs } : {}),
  };
}

const ROUND_REASONS: Record<RoundReason, string> = {
  scratch: 'runs read bytes an aborted attempt left',
  loads: 'another thread stored to bytes a load it had moved would read',
};

/** Replays a violation's schedule with tracing: each step, the kernel events, and the memory diff. */
export function violationTrace(image: Image, tables: RseqTables, scenario: Scenario, profile: Profile, v: Violation): string[] {
  const machine = instantiate(image, scenario, profile);
  try {
    const out = machine.run({ schedule: parseSchedule(v.schedule), trace: true });
    const lines = activityLines(image, tables, out, []);
    if (v.closest) {
      lines.push(`  closest serial order: ${describeOrder(v.closest)}`);
      lines.push(`  differs: ${describeDiff(sharedMemory(machine), v.closest, out.threads.map((t) => t.returns))}`);
    }
    return lines;
  } finally {
    machine.close();
  }
}

/** Lines of a violation's trace shown before and after the part left out. */
const TRACE_HEAD = 300;
const TRACE_TAIL = 100;

export function exploreText(image: Image, tables: RseqTables, scenario: Scenario, profile: Profile, r: ExploreResult, traces: number): string {
  const out: string[] = [];
  const shown = 20;
  r.violations.slice(0, shown).forEach((v, i) => {
    out.push(`${v.kind}: ${v.message}`);
    // A slice set for this search shapes the schedule: the replay needs it too.
    out.push(`  replay: --schedule '${v.schedule}'${scenario.timeSlice !== undefined ? ` --time-slice ${scenario.timeSlice}` : ''}`);
    // A livelock's trace is as long as its budget: show its beginning and its end.
    if (i < traces) append(out, elide(violationTrace(image, tables, scenario, profile, v), TRACE_HEAD, TRACE_TAIL));
  });
  if (r.violationCount > shown) out.push(`… and ${r.violationCount - shown} more violation${r.violationCount - shown === 1 ? '' : 's'}`);
  const space = r.mode === 'exhaustive' ? `every schedule within ${r.bound} deviation${r.bound === 1 ? '' : 's'}` : `PCT depth ${r.depth}, ${r.runs} runs, seed ${r.seed}`;
  // A search whose checked rules failed ran again (scratch-bytes.ts, load-commuting.ts): say so, and why.
  const rounds = r.scratchRounds ? `, searched ${r.scratchRounds} times (${(r.roundReasons ?? []).map((why) => ROUND_REASONS[why]).join('; ')})` : '';
  const cache = r.stateCache ? `; ${r.stateCache.hits} explored state${r.stateCache.hits === 1 ? '' : 's'} skipped${r.stateCache.full ? ' (state cache full)' : ''}${rounds}` : '';
  out.push(`${r.verdict}: ${r.schedules} schedule${r.schedules === 1 ? '' : 's'} (${space}${r.complete ? '' : ', stopped early'}) in ${r.seconds.toFixed(2)} s on ${r.workers} thread${r.workers === 1 ? '' : 's'}, ${r.violationCount} violation${r.violationCount === 1 ? '' : 's'}, profile ${r.profile}${cache}`);
  return out.join('\n') + '\n';
}

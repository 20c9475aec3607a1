// What the explore report shows of each violation: its kind and message, the command that replays
// it, the memory that differs from the closest serial order, and the replayed run's timeline.
import type { Image } from '../../asm/image.js';
import { describeDiff, describeOrder, type Violation } from '../../explore/judge.js';
import { sharedMemory } from '../../explore/oracle.js';
import type { Profile } from '../../kernel/profile.js';
import { parseSchedule } from '../../kernel/schedule.js';
import type { Scenario } from '../../scenario/scenario.js';
import { instantiate } from '../../scenario/setup.js';
import { timelineOf, type Timeline } from './timeline-data.js';

export interface ViolationView {
  kind: string;
  message: string;
  schedule: string;
  /** A shell command that replays the run. */
  replay: string;
  closest?: string;
  differs?: string;
  timeline: Timeline;
}

/** Replays `v` with tracing. `replayPrefix` is the command up to its schedule (`rseq-emu run FILE …`). */
export function violationView(image: Image, scenario: Scenario, profile: Profile, v: Violation, replayPrefix: string): ViolationView {
  const machine = instantiate(image, scenario, profile);
  try {
    const out = machine.run({ schedule: parseSchedule(v.schedule), trace: true });
    const slice = scenario.timeSlice !== undefined ? ` --time-slice ${scenario.timeSlice}` : '';
    return {
      kind: v.kind,
      message: v.message,
      schedule: v.schedule,
      replay: `${replayPrefix} --schedule ${shellQuote(v.schedule)}${slice}`,
      ...(v.closest ? { closest: describeOrder(v.closest), differs: describeDiff(sharedMemory(machine), v.closest, out.threads.map((t) => t.returns)) } : {}),
      timeline: timelineOf(image, out, scenario.cpus),
    };
  } finally {
    machine.close();
  }
}

/** A word as a POSIX shell reads it back unchanged. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

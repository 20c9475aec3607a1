// `run --html`: how the run ended, its timeline (every CPU, every thread, every kernel event), the
// kernel events, the findings of the runtime checks, and each section's outcome map from runs that
// each inject one event before one instruction.
import { symbolize, type Image } from '../../asm/image.js';
import type { Finding } from '../../check/finding.js';
import type { RunOutcome } from '../../kernel/outcome.js';
import { hex } from '../../types.js';
import { u64words, type MemoryDump } from '../run-report.js';
import type { SectionMap } from './outcome-data.js';
import { outcomeMapHtml } from './outcome-map.js';
import { esc, htmlPage } from './page.js';
import { findingsListHtml, summaryHtml } from './summary.js';
import { TIMELINE_LEGEND, timelineHtml } from './timeline.js';
import type { Timeline } from './timeline-data.js';

export interface RunPageInput {
  image: Image;
  /** The command as given, for the title. */
  command: string;
  status: string;
  /** How it ended, in a sentence. */
  ending: string;
  outcome: Pick<RunOutcome, 'events' | 'schedule' | 'instructions'>;
  timeline: Timeline;
  maps: readonly SectionMap[];
  /** What the outcome map's runs were. */
  basis: string;
  findings: readonly Finding[];
  memory: readonly MemoryDump[];
}

export function runPage(p: RunPageInput): string {
  const ok = p.status === 'returned' || p.status === 'completed';
  const events = p.outcome.events.length
    ? `<table class="events"><thead><tr><th>#</th><th>event</th><th>thread</th><th>before</th><th>outcome</th><th>resumes at</th></tr></thead><tbody>${p.outcome.events
        .map((e) => `<tr><td>${e.before}</td><td><code>${esc(e.spec)}</code></td><td>T${e.tid} (cpu${e.cpu} after)</td><td class="mono">${hex(e.ip)} &lt;${esc(symbolize(p.image, e.ip))}&gt;</td><td class="cell ${e.outcome}">${e.outcome}${e.reason ? `: ${esc(e.reason)}` : ''}</td><td class="mono">${e.outcome === 'aborted' ? `${hex(e.resumeIp)} &lt;${esc(symbolize(p.image, e.resumeIp))}&gt;` : ''}</td></tr>`)
        .join('\n')}</tbody></table>`
    : '<p class="muted">No kernel event.</p>';
  const body = [
    `<h1>rseq-emu run</h1><p><code>${esc(p.command)}</code></p>`,
    summaryHtml([
      { label: 'status', value: p.status, tone: ok ? 'verdict-pass' : 'verdict-fail' },
      { label: 'instructions', value: String(p.outcome.instructions) },
      { label: 'kernel events', value: String(p.outcome.events.length) },
      { label: 'findings', value: String(p.findings.length) },
    ]),
    `<p>${esc(p.ending)}</p>`,
    `<p>schedule (replays this run): <code>${esc(p.outcome.schedule)}</code></p>`,
    '<h2>Timeline</h2>',
    TIMELINE_LEGEND,
    timelineHtml(p.timeline, 'timeline-run'),
    '<h2>Kernel events</h2>',
    events,
    '<h2>Findings of the runtime checks</h2>',
    findingsListHtml(p.findings, () => null),
    '<h2>Outcome map</h2>',
    outcomeMapHtml(p.image, p.maps, p.basis),
    ...(p.memory.length ? ['<h2>Memory at the end</h2>', `<ul>${p.memory.map((m) => `<li><code>${esc(m.name)}</code> @ ${hex(m.address)}: <code>[${u64words(m.bytes).join(', ')}]</code></li>`).join('')}</ul>`] : []),
  ];
  return htmlPage(`rseq-emu run: ${p.command}`, body.join('\n'));
}

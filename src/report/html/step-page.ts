// `step --html`: the stepping experiment's verdict, every stop with what the resume before it did
// (coloured as the outcome map colours the kernel's work), the livelock's cycle when there is one,
// and the outcome map of the program's sections.
import { symbolize, type Image } from '../../asm/image.js';
import type { StepOutcome, StepRecord } from '../../debug/step-run.js';
import { hex } from '../../types.js';
import { effectText, textAt } from '../step-report.js';
import type { SectionMap } from './outcome-data.js';
import { outcomeMapHtml } from './outcome-map.js';
import { esc, htmlPage } from './page.js';
import { summaryHtml } from './summary.js';

/** Stops shown from each end of a long session. */
const STOPS_SHOWN = 500;

function stopRow(image: Image, r: StepRecord, inCycle: boolean): string {
  const effect = r.index === 0 ? r.reason : effectText(image, r.effect) + (r.aborts > 1 ? ` (${r.aborts} aborts)` : '');
  const cls = r.index === 0 ? 'none' : r.effect.kind;
  return `<tr class="stop${inCycle ? ' in-cycle' : ''}" data-address="${hex(r.address)}"><td>${r.index}</td><td>T${r.tid}</td><td class="mono">${hex(r.address)} &lt;${esc(symbolize(image, r.address))}&gt;</td><td class="mono muted">${esc(r.line ? `${r.line.file}:${r.line.line}` : '')}</td><td class="mono">${esc(textAt(image, r.address))}</td><td class="cell ${cls}" data-effect="${r.effect.kind}">${esc(effect)}</td><td>${r.reason === 'step' ? '' : esc(r.reason)}</td></tr>`;
}

export function stepPage(image: Image, command: string, o: StepOutcome, maps: readonly SectionMap[], basis: string): string {
  const cycle = new Set(o.cycle.map((r) => r.address));
  const stops = o.stops.length > 2 * STOPS_SHOWN ? [...o.stops.slice(0, STOPS_SHOWN), null, ...o.stops.slice(-STOPS_SHOWN)] : o.stops;
  const rows = stops.map((r) => (r === null ? `<tr><td colspan="7" class="muted">… ${o.stops.length - 2 * STOPS_SHOWN} stops not shown …</td></tr>` : stopRow(image, r, o.verdict === 'livelock' && cycle.has(r.address))));
  const body = [
    `<h1>rseq-emu step</h1><p><code>${esc(command)}</code></p>`,
    summaryHtml([
      { label: 'verdict', value: o.verdict, tone: o.verdict === 'completed' ? 'verdict-pass' : 'verdict-fail' },
      { label: 'steps', value: String(o.steps) },
      { label: 'aborts seen', value: String(o.aborts) },
      { label: 'stepping', value: `T${o.tid} by ${o.by}, strategy ${o.strategy}` },
      { label: 'profile', value: o.profile },
    ]),
    o.verdict === 'livelock' ? `<p class="sev-error">livelock: a cycle of ${o.cycle.length} stop${o.cycle.length === 1 ? '' : 's'} repeats with no progress (its stops are outlined below).</p>` : '',
    '<h2>Stops</h2>',
    `<div class="scroll"><table class="stops"><thead><tr><th>#</th><th>thread</th><th>stop</th><th>line</th><th>instruction</th><th>what the resume did</th><th>why it stopped</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`,
    '<h2>Outcome map</h2>',
    outcomeMapHtml(image, maps, basis),
  ];
  return htmlPage(`rseq-emu step: ${command}`, body.join('\n'));
}

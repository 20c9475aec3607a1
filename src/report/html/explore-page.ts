// `explore --html`: the verdict and the search's figures; each section's outcome map with the heat
// columns (schedules that placed a deviation before each instruction, and how many of them broke
// the op); every instruction that had a deviation; and the violations with their timelines.
import { symbolize, type Image } from '../../asm/image.js';
import type { ExploreResult } from '../../explore/explorer.js';
import { hex } from '../../types.js';
import type { SectionMap } from './outcome-data.js';
import { outcomeMapHtml } from './outcome-map.js';
import { esc, htmlPage } from './page.js';
import { summaryHtml } from './summary.js';
import type { ViolationView } from './violation-data.js';
import { violationsHtml } from './violations.js';

export interface ExplorePageInput {
  image: Image;
  command: string;
  result: ExploreResult;
  maps: readonly SectionMap[];
  basis: string;
  views: readonly ViolationView[];
  /** Capstone text per instruction address, for the heat table. */
  textAt: (address: bigint) => string;
}

function heatTable(p: ExplorePageInput): string {
  const heat = p.result.heat;
  if (!heat.length) return '<p class="muted">No deviation was placed.</p>';
  const most = Math.max(1, ...heat.map((h) => h.schedules));
  const rows = heat.map(
    (h) => `<tr data-address="${hex(h.address)}"><td class="mono">${hex(h.address)}</td><td class="mono">${esc(symbolize(p.image, h.address))}</td><td class="mono">${esc(p.textAt(h.address))}</td><td data-schedules="${h.schedules}"><span class="heatbar" style="width:${Math.round((120 * h.schedules) / most)}px"></span>${h.schedules}</td><td data-violations="${h.violations}">${h.violations ? `<span class="heatbar bad" style="width:${Math.round((120 * h.violations) / most)}px"></span>` : ''}${h.violations}</td></tr>`,
  );
  return `<div class="scroll"><table class="heat-table"><thead><tr><th>address</th><th>label</th><th>instruction</th><th>schedules with a deviation here</th><th>of which violations</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

export function explorePage(p: ExplorePageInput): string {
  const r = p.result;
  const space = r.mode === 'exhaustive' ? `every schedule within ${r.bound} deviation${r.bound === 1 ? '' : 's'}` : `PCT depth ${r.depth}, ${r.runs} runs, seed ${r.seed}`;
  const body = [
    `<h1>rseq-emu explore</h1><p><code>${esc(p.command)}</code></p>`,
    summaryHtml([
      { label: 'verdict', value: r.verdict, tone: r.verdict === 'pass' ? 'verdict-pass' : 'verdict-fail' },
      { label: 'schedules', value: r.schedules.toLocaleString('en-US') },
      { label: 'space', value: space + (r.complete ? '' : ', stopped early') },
      { label: 'violations', value: r.violationCount.toLocaleString('en-US') },
      { label: 'time', value: `${r.seconds.toFixed(2)} s on ${r.workers} thread${r.workers === 1 ? '' : 's'}` },
      { label: 'profile', value: r.profile },
    ]),
    '<h2>Violations</h2>',
    violationsHtml(p.views, r.violationCount),
    '<h2>Outcome map and deviation heat</h2>',
    outcomeMapHtml(p.image, p.maps, p.basis, { heat: r.heat }),
    '<h2>Every instruction where the search placed a deviation</h2>',
    '<p class="muted">A schedule counts once per instruction, however many of its deviations came before it.</p>',
    heatTable(p),
  ];
  return htmlPage(`rseq-emu explore: ${p.command}`, body.join('\n'));
}

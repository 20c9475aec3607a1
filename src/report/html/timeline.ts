// A timeline as inline SVG: one lane per CPU, a block per run of one thread's instructions
// (coloured by thread, labelled with its first label+offset, focusable; its instructions are shown
// on hover, click or Enter), and markers for the kernel's events, aborts and system calls.
import { hex } from '../../types.js';
import { esc, scriptJson } from './page.js';
import type { MarkerKind, Timeline } from './timeline-data.js';

const LEFT = 54;
const TOP = 22;
const LANE = 30;
const GAP = 16;
/** Pixels per instruction: small runs are drawn wide, long ones fit in a few thousand pixels. */
const scaleFor = (steps: number): number => Math.min(28, Math.max(900, Math.min(4000, steps * 2)) / Math.max(1, steps));

const GLYPH: Record<MarkerKind, { d: string; letter: string }> = {
  preempt: { d: 'M-5,-12 h10 v8 h-10 z', letter: 'P' },
  migrate: { d: 'M-6,-12 h12 l-6,8 z', letter: 'M' },
  signal: { d: 'M0,-13 l5,5 l-5,5 l-5,-5 z', letter: 'S' },
  abort: { d: 'M-5,-5 l10,10 M5,-5 l-10,10', letter: '✕' },
  sigsegv: { d: 'M-6,-12 h12 v10 h-12 z', letter: '☠' },
  syscall: { d: 'M-4,0 l4,-6 l4,6 z', letter: 'sys' },
};

/** `id` names the SVG and the elements the page script reads (`ID-blocks`, `ID-detail`). */
export function timelineHtml(t: Timeline, id: string): string {
  const k = scaleFor(t.steps);
  const width = Math.ceil(LEFT + t.steps * k + 24);
  const height = TOP + t.cpus * (LANE + GAP) + 4;
  const laneY = (cpu: number) => TOP + cpu * (LANE + GAP);
  const x = (at: number) => LEFT + at * k;
  const out: string[] = [`<div class="scroll"><svg class="timeline" id="${id}" data-blocks="${id}-blocks" data-detail="${id}-detail" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-label="timeline: one lane per CPU">`];
  for (let c = 0; c < t.cpus; c++) {
    out.push(`<rect class="lane-bg" x="${LEFT}" y="${laneY(c)}" width="${width - LEFT - 8}" height="${LANE}"/><text x="6" y="${laneY(c) + LANE / 2 + 4}">cpu${c}</text>`);
  }
  out.push(`<line class="axis" x1="${LEFT}" x2="${LEFT}" y1="${TOP - 4}" y2="${height}"/>`);
  t.blocks.forEach((b, i) => {
    const x0 = x(b.first - 1);
    const w = Math.max(1, (b.last - b.first + 1) * k);
    const text = `T${b.tid} ${b.label}`;
    const fits = Math.floor((w - 6) / 6.7);
    const shown = fits >= text.length ? text : fits >= 4 ? text.slice(0, fits - 1) + '…' : '';
    const name = `T${b.tid} on cpu${b.cpu}, #${b.first}–#${b.last}, from ${b.label}`;
    out.push(`<g class="block th${(b.tid - 1) % 8}" tabindex="0" role="button" data-block="${i}" data-tid="${b.tid}" data-cpu="${b.cpu}" data-first="${b.first}" data-last="${b.last}" aria-label="${esc(name)}"><title>${esc(name)}</title><rect x="${x0.toFixed(1)}" y="${laneY(b.cpu) + 2}" width="${w.toFixed(1)}" height="${LANE - 4}" rx="3"/>${shown ? `<text x="${(x0 + 3).toFixed(1)}" y="${laneY(b.cpu) + LANE / 2 + 4}">${esc(shown)}</text>` : ''}</g>`);
  });
  for (const m of t.markers) {
    const mx = x(m.at).toFixed(1);
    const y = laneY(m.cpu);
    const g = GLYPH[m.kind];
    const top = m.kind === 'abort' || m.kind === 'sigsegv' ? y + LANE + 7 : y;
    out.push(`<g class="marker ${m.kind}" data-kind="${m.kind}" data-at="${m.at}" data-tid="${m.tid}" data-ip="${hex(m.ip)}"${m.resumeIp !== undefined ? ` data-resume="${hex(m.resumeIp)}"` : ''}><title>${esc(m.label)}</title><line x1="${mx}" x2="${mx}" y1="${y}" y2="${y + LANE}"/><path transform="translate(${mx},${top})" d="${g.d}"${m.kind === 'abort' ? ' style="stroke:var(--bad);stroke-width:2.5"' : ''}/>${m.kind === 'syscall' || m.kind === 'abort' ? '' : `<text class="glyph" x="${(x(m.at) + 7).toFixed(1)}" y="${top - 5}">${g.letter}</text>`}</g>`);
  }
  out.push('</svg></div>');
  const data = t.blocks.map((b) => ({ head: `T${b.tid} on cpu${b.cpu}, instructions #${b.first}–#${b.last} (${b.last - b.first + 1}), from ${b.label}`, lines: b.lines, omitted: b.omitted }));
  out.push(`<script type="application/json" id="${id}-blocks">${scriptJson(data)}</script>`);
  out.push(`<div class="block-detail mono" id="${id}-detail" aria-live="polite">Hover over a block, or focus it with Tab and press Enter, to see its instructions.</div>`);
  return out.join('\n');
}

export const TIMELINE_LEGEND = `<div class="legend">markers:
<span>▮ P preempt</span><span>▼ M migrate</span><span>◆ S signal</span><span style="color:var(--bad)">✕ abort (below the lane)</span><span style="color:var(--bad)">■ SIGSEGV</span><span style="color:var(--accent)">▴ system call</span>
· blocks: one colour per thread</div>`;

// The explore report's violations: a list (kind and message; a button each) and, for the chosen
// one, its replay command, the memory that differs from the closest serial order and its timeline.
import { esc } from './page.js';
import { TIMELINE_LEGEND, timelineHtml } from './timeline.js';
import type { ViolationView } from './violation-data.js';

export function violationsHtml(views: readonly ViolationView[], total: number): string {
  if (!views.length) return '<p>No violation: every explored schedule ended in a state some serial order gives.</p>';
  const out: string[] = ['<ol class="violations">'];
  views.forEach((v, i) => {
    out.push(`<li><button class="violation-pick" aria-controls="violation-${i}" aria-expanded="${i === 0}"><b>${esc(v.kind)}</b>: ${esc(v.message)}</button></li>`);
  });
  out.push('</ol>');
  if (total > views.length) out.push(`<p class="muted">… and ${total - views.length} more violation${total - views.length === 1 ? '' : 's'} not shown (the text report and <code>--json</code> list up to 1,000).</p>`);
  out.push(TIMELINE_LEGEND);
  views.forEach((v, i) => {
    out.push(`<section class="violation" id="violation-${i}" data-kind="${esc(v.kind)}"${i === 0 ? '' : ' hidden'}>`);
    out.push(`<h3>Violation ${i + 1}: ${esc(v.kind)}</h3><p>${esc(v.message)}</p>`);
    out.push(`<div class="replay"><label for="replay-${i}">replay</label><input id="replay-${i}" readonly value="${esc(v.replay)}"><button class="copy" data-target="replay-${i}">copy</button></div>`);
    if (v.closest) out.push(`<p>closest serial order: <code>${esc(v.closest)}</code><br>differs: <code>${esc(v.differs ?? '')}</code></p>`);
    out.push(timelineHtml(v.timeline, `timeline-${i}`));
    out.push('</section>');
  });
  return out.join('\n');
}

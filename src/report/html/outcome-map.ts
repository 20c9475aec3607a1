// The outcome map as HTML: per critical section, its descriptor, signature and table entries, then
// the annotated listing of its instructions with one cell per event kind, coloured by what the
// kernel model did, and optionally the exploration's heat and the check's findings per row.
import { symbolize, type Image } from '../../asm/image.js';
import type { Finding } from '../../check/finding.js';
import type { HeatCell } from '../../explore/heat.js';
import { basename } from 'node:path';
import { hex, hexBytes, type Address } from '../../types.js';
import { EVENT_KINDS, type OutcomeCell, type SectionMap } from './outcome-data.js';
import { esc } from './page.js';

const place = (image: Image, a: Address): string => `${hex(a)} <${symbolize(image, a)}>`;

/** `abort_ip` when the thread resumed at its section's handler, else where it went. */
function cellText(image: Image, c: OutcomeCell, abortIp: Address): string {
  switch (c.outcome) {
    case 'aborted':
      return `aborted → ${c.resumeIp === abortIp ? 'abort_ip' : symbolize(image, c.resumeIp!)}`;
    case 'sigsegv':
      return 'SIGSEGV';
    case 'unreached':
      return 'not reached';
    default:
      return c.outcome;
  }
}

function cellTitle(image: Image, kind: string, c: OutcomeCell): string {
  const why: Record<string, string> = {
    cleared: 'the IP is outside the section: the kernel clears rseq_cs (lazy clear)',
    unreached: 'no thread reached this instruction in the run',
    'n/a': c.reason ?? 'cannot happen here',
  };
  if (c.outcome === 'aborted') return `${kind}: the kernel aborts the section and the thread resumes at ${place(image, c.resumeIp!)}`;
  if (c.outcome === 'sigsegv') return `${kind}: the kernel kills the thread with SIGSEGV: ${c.reason ?? ''}`;
  if (c.outcome === 'none') return `${kind}: inside the section, nothing to do (no abort, rseq_cs kept)`;
  return `${kind}: ${why[c.outcome] ?? c.outcome}`;
}

export const OUTCOME_LEGEND = `<div class="legend" aria-label="legend">
<span><span class="sw cell none"></span>none: nothing changes</span>
<span><span class="sw cell cleared"></span>cleared: rseq_cs set to 0 (IP outside)</span>
<span><span class="sw cell aborted"></span>aborted → abort_ip</span>
<span><span class="sw cell sigsegv"></span>SIGSEGV (reason on hover)</span>
<span><span class="sw cell unreached"></span>not reached / not possible</span>
</div>`;

export interface MapExtras {
  heat?: readonly HeatCell[];
  findings?: readonly Finding[];
}

export function sectionHeader(image: Image, m: SectionMap): string {
  const cs = m.cs;
  return `<div class="desc">descriptor <code>${esc(place(image, cs.descriptor))}</code> version <code>${cs.version}</code> flags <code>${cs.flags}</code> ·
start <code>${esc(place(image, cs.startIp))}</code> · post-commit <code>${esc(place(image, cs.postCommitIp))}</code> (+${cs.postCommitOffset}) ·
commit <code>${m.commit === null ? 'none (no instruction ends at the post-commit address)' : esc(place(image, m.commit))}</code> ·
abort <code>${esc(place(image, cs.abortIp))}</code> · signature <code>${esc(m.signature)}</code> · listed in <code>${esc(cs.listedIn.join(', ') || 'no table')}</code></div>`;
}

export function outcomeMapHtml(image: Image, maps: readonly SectionMap[], basis: string, extras: MapExtras = {}): string {
  if (!maps.length) return '<p class="muted">No critical section in the image.</p>';
  const heat = new Map((extras.heat ?? []).map((h) => [h.address, h]));
  const most = Math.max(1, ...(extras.heat ?? []).map((h) => h.schedules));
  const out: string[] = [`<p class="muted">${esc(basis)}</p>`, OUTCOME_LEGEND];
  for (const m of maps) {
    out.push(`<h3 id="cs${m.index}">cs${m.index}</h3>`, sectionHeader(image, m));
    out.push(`<div class="scroll"><table class="outcome-map" data-section="${m.index}"><thead><tr><th>address</th><th>label</th><th>instruction</th>`);
    for (const k of EVENT_KINDS) out.push(`<th>${k}</th>`);
    if (extras.heat) out.push('<th title="explored schedules that placed a deviation before this instruction">deviations</th><th title="of those, schedules judged a violation">violations</th>');
    if (extras.findings) out.push('<th>findings</th>');
    out.push('<th>bytes</th><th>source</th></tr></thead><tbody>');
    for (const r of [...m.rows, ...(m.after ? [m.after] : [])]) {
      const found = (extras.findings ?? []).filter((f) => f.address === r.address);
      // The row after the section is context: its class is not `insn`.
      const cls = r === m.after ? 'context' : 'insn';
      const marks = r === m.after ? [...r.marks, 'after the section'] : r.marks;
      out.push(`<tr class="${cls}${found.length ? ' has-finding' : ''}" data-address="${hex(r.address)}"><td class="mono">${hex(r.address)}</td><td class="mono label">${esc(symbolize(image, r.address))}${marks.length ? ` <span class="marks">[${esc(marks.join(' '))}]</span>` : ''}</td><td class="mono">${esc(r.text)}</td>`);
      for (const k of EVENT_KINDS) {
        const c = r.cells[k];
        const cls = c.outcome === 'n/a' ? 'na' : c.outcome;
        out.push(`<td class="cell ${cls}" data-kind="${k}" data-outcome="${c.outcome}"${c.resumeIp !== undefined ? ` data-resume="${hex(c.resumeIp)}"` : ''}${c.spec !== undefined ? ` data-spec="${esc(c.spec)}"` : ''} title="${esc(cellTitle(image, k, c))}">${esc(cellText(image, c, m.cs.abortIp))}</td>`);
      }
      if (extras.heat) {
        const h = heat.get(r.address);
        out.push(h ? `<td class="heat" data-schedules="${h.schedules}"><span class="heatbar" style="width:${Math.round((60 * h.schedules) / most)}px"></span>${h.schedules}</td><td class="heat-bad" data-violations="${h.violations}">${h.violations ? `<span class="heatbar bad" style="width:${Math.round((60 * h.violations) / most)}px"></span>` : ''}${h.violations}</td>` : '<td class="heat" data-schedules="0">0</td><td class="heat-bad" data-violations="0">0</td>');
      }
      if (extras.findings) out.push(`<td>${found.map((f) => `<span class="sev-${f.severity}">${f.severity}</span> <code>${esc(f.rule)}</code>`).join('<br>')}</td>`);
      out.push(`<td class="mono">${hexBytes(r.bytes)}</td><td class="mono muted" title="${esc(r.source)}">${esc(basename(r.source))}</td></tr>`);
    }
    out.push('</tbody></table></div>');
  }
  return out.join('\n');
}

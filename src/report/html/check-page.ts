// `check --html`: the findings, each at its instruction in the annotated listing with its rule and
// severity; the outcome map of each section as the kernel model decides it with the section armed;
// and the same findings as SARIF, embedded for download.
import type { Image } from '../../asm/image.js';
import type { RseqTables } from '../../abi/tables.js';
import type { Finding } from '../../check/finding.js';
import { hex, hexBytes } from '../../types.js';
import { SectionMarks } from '../annotate.js';
import { listingRows } from '../listing.js';
import type { SectionMap } from './outcome-data.js';
import { outcomeMapHtml } from './outcome-map.js';
import { esc, htmlPage, scriptJson } from './page.js';
import { findingsListHtml, summaryHtml } from './summary.js';

const rowId = (a: bigint) => `a${a.toString(16)}`;

function listingHtml(image: Image, tables: RseqTables, findings: readonly Finding[]): string {
  const marks = new SectionMarks(image, tables.sections);
  const out: string[] = [];
  for (const s of image.sections) {
    if (!s.flags.exec || s.bytes.length === 0) continue;
    out.push(`<h3>section ${esc(s.name)} <span class="muted">(${hex(s.address)}, ${s.bytes.length} bytes)</span></h3>`);
    out.push('<div class="scroll"><table class="listing"><thead><tr><th>address</th><th>bytes</th><th>instruction</th><th>rseq</th><th>source</th></tr></thead><tbody>');
    for (const r of listingRows(image, s, marks)) {
      for (const l of r.labels) out.push(`<tr class="label"><td colspan="5" class="mono labels">${esc(l)}:</td></tr>`);
      const here = findings.filter((f) => f.address === r.address);
      const bytes = hexBytes(r.bytes.subarray(0, 10)) + (r.bytes.length > 10 ? ' …' : '');
      out.push(`<tr class="${r.kind}${here.length ? ' has-finding' : ''}" id="${rowId(r.address)}" data-address="${hex(r.address)}"><td class="mono">${hex(r.address)}</td><td class="mono">${bytes}</td><td class="mono">${esc(r.text)}</td><td class="marks mono">${esc(r.marks.join(' '))}</td><td class="mono muted">${esc(r.source)}</td></tr>`);
      for (const f of here) out.push(`<tr class="finding" data-rule="${esc(f.rule)}" data-severity="${f.severity}"><td></td><td colspan="4"><span class="sev-${f.severity}">${f.severity}</span> <code>${esc(f.rule)}</code> ${esc(f.message)}</td></tr>`);
    }
    out.push('</tbody></table></div>');
  }
  return out.join('\n');
}

export function checkPage(image: Image, tables: RseqTables, findings: readonly Finding[], maps: readonly SectionMap[], sarif: unknown): string {
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  const listed = new Set(image.lines.map((l) => l.address));
  const body = [
    `<h1>rseq-emu check: ${esc(image.file)}</h1>`,
    summaryHtml([
      { label: 'verdict', value: count('error') ? 'errors found' : 'no error', tone: count('error') ? 'verdict-fail' : 'verdict-pass' },
      { label: 'critical sections', value: String(tables.sections.length) },
      { label: 'errors', value: String(count('error')) },
      { label: 'warnings', value: String(count('warning')) },
      { label: 'notes', value: String(count('note')) },
    ]),
    '<h2>Findings</h2>',
    findingsListHtml(findings, (a) => (listed.has(a) ? rowId(a) : null)),
    '<p><button id="sarif-download">Download these findings as SARIF 2.1.0</button></p>',
    ...tables.problems.map((p) => `<p class="sev-error">table problem: ${esc(p.message)}</p>`),
    '<h2>Outcome map</h2>',
    outcomeMapHtml(image, maps, 'Each cell: what the kernel model does for that event before that instruction, for a thread whose rseq_cs holds this section\'s descriptor (check runs nothing; `run --html` shows what a real run does).', { findings }),
    '<h2>Listing</h2>',
    listingHtml(image, tables, findings),
    `<script type="application/json" id="sarif-log">${scriptJson(sarif)}</script>`,
  ];
  return htmlPage(`rseq-emu check ${image.file}`, body.join('\n'));
}

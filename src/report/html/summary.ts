// The figures at the top of every report: a row of labelled values.
import { esc } from './page.js';

export interface Figure {
  label: string;
  value: string;
  /** A class for the value (e.g. verdict-fail). */
  tone?: string;
}

export const summaryHtml = (figures: readonly Figure[]): string =>
  `<div class="summary">${figures.map((f) => `<div${f.tone ? ` class="${f.tone}"` : ''}><span class="muted">${esc(f.label)}</span><b>${esc(f.value)}</b></div>`).join('')}</div>`;

export const findingsListHtml = (findings: readonly { severity: string; rule: string; message: string; file: string; line: number | null; address: bigint }[], anchor: (a: bigint) => string | null): string =>
  findings.length === 0
    ? '<p>No finding.</p>'
    : `<ul class="findings">${findings
        .map((f) => {
          const href = anchor(f.address);
          const where = `${f.file}${f.line === null ? '' : `:${f.line}`}`;
          return `<li class="finding-item" data-rule="${esc(f.rule)}" data-severity="${f.severity}"><span class="sev-${f.severity}">${f.severity}</span> <code>${esc(f.rule)}</code> ${href ? `<a href="#${href}">${esc(where)}</a>` : esc(where)}: ${esc(f.message)}</li>`;
        })
        .join('\n')}</ul>`;

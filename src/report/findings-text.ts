// Findings as text, one line each: `file:line: severity rule-id message`, the shape compilers use
// so editors and terminals make the location clickable. Colour is the caller's decision.
import type { Finding, Severity } from '../check/finding.js';

const SGR: Record<Severity, string> = { error: '31', warning: '33', note: '36' };
const paint = (code: string, text: string) => `\x1b[${code}m${text}\x1b[0m`;

export function findingLine(f: Finding, color = false): string {
  const where = f.line === null ? `${f.file}:` : `${f.file}:${f.line}:`;
  return color
    ? `${paint('1', where)} ${paint(`1;${SGR[f.severity]}`, f.severity)} ${paint('2', f.rule)} ${f.message}`
    : `${where} ${f.severity} ${f.rule} ${f.message}`;
}

/** Every finding on its own line (nothing at all when there are none). */
export function findingsText(findings: readonly Finding[], color = false): string {
  return findings.map((f) => findingLine(f, color) + '\n').join('');
}

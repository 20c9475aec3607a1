// Findings as JSON: `{ "findings": [ { rule, severity, message, address, file, line } ] }`,
// addresses as hex strings like every other report, line null when no source line covers it.
import type { Finding } from '../check/finding.js';
import { hex } from '../types.js';

export interface FindingJson {
  rule: string;
  severity: string;
  message: string;
  address: string;
  file: string;
  line: number | null;
}

export const findingJson = (f: Finding): FindingJson => ({ rule: f.rule, severity: f.severity, message: f.message, address: hex(f.address), file: f.file, line: f.line });

export function findingsJson(findings: readonly Finding[]): { findings: FindingJson[] } {
  return { findings: findings.map(findingJson) };
}

// Findings as a SARIF 2.1.0 log, the format GitHub code scanning and editors read: one run, the
// whole rule catalog as the driver's rules, one result per finding located by source file and
// line (relative paths against %SRCROOT%, so code scanning places them in the repository) and by
// address.
import { createRequire } from 'node:module';
import { isAbsolute, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RULES, type Finding, type RuleId } from '../check/finding.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
const RULE_IDS = Object.keys(RULES) as RuleId[];

function artifactLocation(file: string): { uri: string; uriBaseId?: string } {
  if (isAbsolute(file)) return { uri: pathToFileURL(file).href };
  return { uri: file.split(sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

export function findingsSarif(findings: readonly Finding[]): Record<string, unknown> {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'rseq-emu',
            version,
            rules: RULE_IDS.map((id) => ({
              id,
              shortDescription: { text: RULES[id].summary },
              defaultConfiguration: { level: RULES[id].severity },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: RULE_IDS.indexOf(f.rule),
          level: f.severity,
          message: { text: f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: artifactLocation(f.file),
                ...(f.line === null ? {} : { region: { startLine: f.line } }),
                ...(f.address <= BigInt(Number.MAX_SAFE_INTEGER) ? { address: { absoluteAddress: Number(f.address) } } : {}),
              },
            },
          ],
        })),
      },
    ],
  };
}

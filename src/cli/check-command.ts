// `rseq-emu check FILE [--sig 0xHEX] [--format text|json|sarif]`: static validation of the
// image's critical sections and rseq tables. Exit 0 when no finding is an error, 1 when one is
// (bad input is 2, as for every command).
import { hasErrors } from '../check/finding.js';
import { runChecks } from '../check/run-checks.js';
import { usageError } from '../errors.js';
import { parseProfile } from '../kernel/profile.js';
import { loadProgram } from '../program.js';
import { findingsJson } from '../report/findings-json.js';
import { findingsText } from '../report/findings-text.js';
import { findingsSarif } from '../report/sarif.js';
import { one, parseArgs, positionalProblem } from './args.js';
import { CHECK_USAGE } from './usage.js';


const SPEC = { sig: { value: true }, format: { value: true }, html: { value: true } };
const FORMATS = ['text', 'json', 'sarif'] as const;

/** A u32 signature in hex (0x…) or decimal. */
function parseSignature(text: string): number {
  if (!/^(0x[0-9a-f]{1,8}|[0-9]+)$/i.test(text) || Number(text) > 0xffffffff) throw usageError(`--sig must be a 32-bit number such as 0x53053053, not '${text}'`);
  return Number(text);
}

/** Colour only for a person at a terminal who has not asked for none (https://no-color.org). */
const wantsColor = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR;

export async function checkCommand(argv: readonly string[], print: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, SPEC);
  if (a.positionals.length !== 1) throw usageError(positionalProblem(a.positionals, 'FILE'));
  const format = one(a, 'format') ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw usageError(`--format must be text, json or sarif, not '${format}'`);
  const sigText = one(a, 'sig');
  const options = sigText === undefined ? {} : { sig: parseSignature(sigText) };
  const image = await loadProgram(a.positionals[0]!);
  const findings = await runChecks(image, options);
  const html = one(a, 'html');
  if (html !== undefined) {
    const [{ checkReport, writeReport }, { readRseqTables }] = await Promise.all([import('../report/html/collect.js'), import('../abi/tables.js')]);
    writeReport(html, checkReport(image, readRseqTables(image), findings, parseProfile('linux'), options.sig, findingsSarif(findings)));
  }
  if (format === 'json') print(JSON.stringify(findingsJson(findings), null, 2) + '\n');
  else if (format === 'sarif') print(JSON.stringify(findingsSarif(findings), null, 2) + '\n');
  else print(findingsText(findings, wantsColor()));
  return hasErrors(findings) ? 1 : 0;
}

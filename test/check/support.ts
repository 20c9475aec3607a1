// Shared by the check tests: a minimal correct critical section to break one line at a time, and
// helpers to find a finding and the source line it should point at.
import { strict as assert } from 'node:assert';
import { runChecks, type CheckOptions } from '../../src/check/run-checks.js';
import type { Finding, RuleId, Severity } from '../../src/check/finding.js';
import { inline } from '../support/program.js';

/** A per-CPU counter add, correct in every respect the checker looks at. */
export const TEMPLATE = `	.text
	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcs:
	.long 0, 0
	.quad .Lstart, .Lpost - .Lstart, .Labort
	.popsection
	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcs
	.popsection
	.globl f
	.type f, @function
f:
	movq __rseq_offset(%rip), %rcx
.Lretry:
	movl %fs:0(%rcx), %r8d
	leaq .Lcs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lstart:
	cmpl %fs:4(%rcx), %r8d
	jne .Labort
	movq (%rdi,%r8,8), %r9
	addq %rsi, %r9
	movq %r9, (%rdi,%r8,8)
.Lpost:
	ret
	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Labort:
	jmp .Lretry
	.popsection
`;

/** The template with each `[from, to]` replacement made; each `from` must occur exactly once. */
export function variant(...edits: [string, string][]): string {
  let src = TEMPLATE;
  for (const [from, to] of edits) {
    assert.equal(src.split(from).length, 2, `'${from}' must occur once in the template`);
    src = src.replace(from, to);
  }
  return src;
}

/** The 1-based line of the one line containing `text`. */
export function lineOf(source: string, text: string): number {
  const lines = source.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  assert.equal(hits.length, 1, `'${text}' must be on exactly one line`);
  return hits[0]!;
}

export async function check(source: string, options?: CheckOptions): Promise<Finding[]> {
  return runChecks(await inline(source), options);
}

/** Asserts that `rule` fires exactly once on `source`, with `severity`, at the line containing `lineText`; returns it. */
export async function firesOnce(source: string, rule: RuleId, severity: Severity, lineText: string, options?: CheckOptions): Promise<Finding> {
  const all = await check(source, options);
  const hits = all.filter((f) => f.rule === rule);
  assert.equal(hits.length, 1, `expected one ${rule}, got: ${JSON.stringify(all.map((f) => `${f.line}: ${f.rule}`))}`);
  assert.equal(hits[0]!.severity, severity);
  assert.equal(hits[0]!.line, lineOf(source, lineText));
  return hits[0]!;
}

/** Findings that are errors or warnings, as `line: rule` strings for readable assertion failures. */
export const serious = (findings: readonly Finding[]): string[] => findings.filter((f) => f.severity !== 'note').map((f) => `${f.file}:${f.line}: ${f.rule}`);

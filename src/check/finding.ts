// The one type `rseq-emu check` hands to its reports: a finding with a stable rule id, a
// severity, a message, the address it is about and the source line behind that address.
// The catalog below is the single list of rules; the SARIF report and the README read it.
import { lineAt, symbolize, type Image } from '../asm/image.js';
import { hex, type Address } from '../types.js';

export type Severity = 'error' | 'warning' | 'note';

export interface RuleInfo {
  /** The usual severity; a rule may report a milder one for a milder case (said in its summary). */
  severity: Severity;
  summary: string;
}

export const RULES = {
  'descriptor/misaligned': { severity: 'warning', summary: 'struct rseq_cs is not 32-byte aligned as the ABI declares it' },
  'descriptor/version': { severity: 'error', summary: 'version is not 0: the kernel kills the thread' },
  'descriptor/flags': { severity: 'error', summary: 'flags is not 0: the NO_RESTART_ON_* flags are deprecated and kill the thread since Linux 6.1' },
  'descriptor/range': { severity: 'error', summary: 'start_ip, start_ip + post_commit_offset or abort_ip overflows or reaches TASK_SIZE' },
  'descriptor/empty': { severity: 'error', summary: 'post_commit_offset is 0: no instruction is ever inside the section' },
  'descriptor/not-executable': { severity: 'error', summary: 'the section [start_ip, start_ip + post_commit_offset) is not inside one executable section' },
  'descriptor/boundary': { severity: 'error', summary: 'start_ip or the post-commit address is not an instruction boundary' },
  'descriptor/overlap': { severity: 'error', summary: 'two critical sections overlap' },
  'descriptor/unreadable': { severity: 'error', summary: 'the code stores into rseq_cs an address that does not hold 32 bytes of the image' },
  'abort/inside': { severity: 'error', summary: 'abort_ip is inside [start_ip, start_ip + post_commit_offset)' },
  'abort/signature': { severity: 'error', summary: 'the 4 bytes before abort_ip are not the signature' },
  'abort/signature-form': { severity: 'warning', summary: 'the 7 bytes before abort_ip are not `ud1 SIG(%rip), %edi` (a note when they are a nop that carries the signature)' },
  'abort/not-executable': { severity: 'error', summary: 'abort_ip is not the start of an instruction in executable memory' },
  'abort/fall-through': { severity: 'error', summary: 'the abort handler reaches the section again without storing the descriptor into rseq_cs' },
  'table/missing-descriptor': { severity: 'error', summary: 'a descriptor the code stores into rseq_cs is in neither __rseq_cs_ptr_array nor __rseq_table (a warning when the image has neither table)' },
  'table/invalid-entry': { severity: 'error', summary: 'an entry of an rseq table does not describe a critical section' },
  'table/unlisted-exit': { severity: 'warning', summary: 'a jump leaves the section to neither the post-commit address, abort_ip nor an __rseq_exit_point_array target' },
  'commit/not-last-store': { severity: 'warning', summary: 'the last instruction of the section is not a store' },
  'commit/try-store': { severity: 'note', summary: 'a store inside the section before the commit: fine for private memory, a bug for shared data' },
  'commit/outside': { severity: 'error', summary: "after the post-commit address, per-CPU memory indexed by the section's cpu number is updated: a read-modify-write, or a store of a value loaded from per-CPU memory" },
  'commit/read-after': { severity: 'warning', summary: "after the post-commit address, per-CPU memory indexed by the section's cpu number is read: the commit has published the change, so another thread on that CPU may have reused it" },
  'commit/syscall': { severity: 'error', summary: 'a system call inside the section' },
  'commit/call': { severity: 'error', summary: 'a call leaving the section' },
  'commit/ret': { severity: 'error', summary: 'a return inside the section' },
  'commit/trap': { severity: 'error', summary: 'an instruction that traps inside the section' },
  'setup/unarmed-entry': { severity: 'error', summary: 'a path enters the section without storing its descriptor into rseq_cs first' },
  'setup/arm-gap': { severity: 'error', summary: 'instructions run between the rseq_cs store and the section: a preemption there clears rseq_cs' },
  'setup/store-inside': { severity: 'error', summary: 'the descriptor is stored into rseq_cs inside a critical section' },
  'setup/no-cpu-compare': { severity: 'error', summary: 'a cpu number loaded before the section is used inside it without comparing it with the rseq area' },
  'setup/cpu-id-start': { severity: 'warning', summary: 'the section compares with cpu_id_start where cpu_id is meant' },
  'setup/stale-load': { severity: 'error', summary: 'a value loaded from per-CPU memory before the section is stored inside it without being compared again' },
  'runtime/unlisted-descriptor': { severity: 'error', summary: 'the kernel aborted through a descriptor that no rseq table lists' },
  'runtime/abort-target': { severity: 'error', summary: "an abort resumed somewhere other than its descriptor's abort_ip" },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
  address: Address;
  /** The source file behind the address, or the image's file when no line covers it. */
  file: string;
  line: number | null;
}

/** A finding about `address`, located at the source line that produced the byte there. */
export function finding(image: Image, rule: RuleId, address: Address, message: string, severity: Severity = RULES[rule].severity): Finding {
  const loc = lineAt(image, address)?.loc;
  return { rule, severity, message, address, file: loc?.file ?? image.file, line: loc?.line ?? null };
}

/** An address for a message: `0x400007 <.Lretry>`, or just the hex when no label is near. */
export function place(image: Image, address: Address): string {
  const name = symbolize(image, address);
  return name === hex(address) ? name : `${hex(address)} <${name}>`;
}

/** File, then line (unlocated last), then address, then rule id: the order every report prints. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const key = (f: Finding) => f.line ?? Number.MAX_SAFE_INTEGER;
  return [...findings].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || key(a) - key(b) || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) || a.rule.localeCompare(b.rule),
  );
}

export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((f) => f.severity === 'error');

// Where a kernel event commutes with the instruction before it (event-twins.ts uses this): a
// preempt or migrate of thread T just before instruction I, and the same event just after it,
// lead to the same leaves when
// - I touches registers only (no memory, no stack, nothing that reads the CPU, the clock or
//   thread-private bases) — then nothing another thread or the kernel does while T is off its
//   CPU can see whether I ran before or after;
// - the event's return to user space does the same either way: the kernel's rseq fix-up clears
//   rseq_cs without an abort at both addresses (`decideFixup` says 'clear');
// - and the step over I was pure (event-twins.ts: nothing else changed).
// The earlier event's schedule then stands for the later one. Signals are left out: a handler
// reads the frame, which holds the registers.
import { imageInstructions } from '../asm/capstone.js';
import type { Image } from '../asm/image.js';
import { parseInstruction } from '../asm/operands.js';
import type { Machine } from '../kernel/machine.js';
import { decideFixup, fixupRules } from '../kernel/rseq-fixup.js';
import type { ScheduleItem } from '../kernel/schedule.js';
import type { Thread } from '../kernel/thread.js';
import type { Address } from '../types.js';

/**
 * Mnemonics (any size suffix) that read or write more than registers without a memory operand in
 * AT&T text (string instructions print theirs), read what differs between CPUs or over time or a
 * thread-private base, enter the kernel or trap.
 */
const NOT_REGISTER_ONLY = /^(lock|push|pusha|pushf|pop|popa|popf|call|ret|retf|leave|enter|in|out|xlat|xlatb|cpuid|rdtsc|rdtscp|rdpid|rdrand|rdseed|rdfsbase|rdgsbase|wrfsbase|wrgsbase|rdpkru|wrpkru|xgetbv|syscall|sysenter|int|int1|int3|into|ud0|ud1|ud2|hlt|iret|sysret|swapgs|xbegin|xend|xabort|xtest|monitor|mwait|clflush|clflushopt|clwb|cli|sti|clac|stac)[bwlq]?$/;

/** Addresses of the image's instructions that touch registers only. */
export function registerOnlyPoints(image: Image): Set<Address> {
  const out = new Set<Address>();
  for (const d of imageInstructions(image)) {
    if (d.mnemonic.split(/\s+/).some((word) => NOT_REGISTER_ONLY.test(word))) continue;
    try {
      const ops = parseInstruction(`${d.mnemonic} ${d.operands}`.trim(), 'att').operands;
      // lea computes an address and a long nop names one; neither reads it.
      if (ops.every((op) => op.kind !== 'mem') || /^(lea|nop)/.test(d.mnemonic)) out.add(d.address);
    } catch {
      // unparsed: not known to be register-only
    }
  }
  return out;
}

/** Whether `item` is an event that can commute with an instruction before it. */
export const commutable = (item: ScheduleItem): boolean => item.kind === 'event' && (item.event.kind === 'preempt' || item.event.kind === 'migrate');

/** Whether the kernel's fix-up for `t` at `ip` would clear rseq_cs and abort nothing. */
export function fixupClears(machine: Machine, t: Thread, ip: Address): boolean {
  if (!t.rseq) return true;
  return decideFixup(t.process.emu, { area: t.rseq.area, sig: t.rseq.sig, ip, eventMask: 1 }, fixupRules(machine.profile)).kind === 'clear';
}

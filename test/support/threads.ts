// Multi-threaded fixtures for the kernel-model tests: a machine with named regions and threads,
// runs under a schedule string, and whole-machine snapshots (memory, registers, events) to compare.
import type { Image } from '../../src/asm/image.js';
import { readRseqArea, type RseqArea } from '../../src/abi/rseq.js';
import { parseEvent } from '../../src/kernel/event-spec.js';
import { Machine, type MachineOptions, type MachineOutcome, type RunOptions } from '../../src/kernel/machine.js';
import { parseProfile } from '../../src/kernel/profile.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import type { Address } from '../../src/types.js';
import { address, words, type Region } from './program.js';

export interface ThreadDef {
  entry: string;
  /** Numbers, or region names with an optional +offset (`counters+8`). */
  args?: (bigint | string)[];
  cpu?: number;
  repeat?: number;
}

export interface Setup {
  cpus?: number;
  /** A profile string as the CLI takes it (`linux,bug-kvm-run`). */
  profile?: string;
  registration?: MachineOptions['registration'];
  maxInstructions?: number;
  /** The time slice in instructions (0: none); the machine's default when absent. */
  timeSlice?: number;
  regions?: Region[];
  threads: ThreadDef[];
}

export interface Booted {
  machine: Machine;
  regions: Record<string, Address>;
  /** The tids of the spawned threads, in the order of `setup.threads`. */
  tids: number[];
}

/** A machine with the setup's regions and threads, not yet run. Call `machine.close()` when done. */
export function boot(image: Image, setup: Setup): Booted {
  const machine = Machine.create(image, {
    cpus: setup.cpus ?? 2,
    ...(setup.profile !== undefined ? { profile: parseProfile(setup.profile) } : {}),
    ...(setup.registration !== undefined ? { registration: setup.registration } : {}),
    ...(setup.maxInstructions !== undefined ? { maxInstructions: setup.maxInstructions } : {}),
    ...(setup.timeSlice !== undefined ? { timeSlice: setup.timeSlice } : {}),
  });
  const regions: Record<string, Address> = {};
  for (const r of setup.regions ?? []) {
    const init = new Uint8Array(r.size);
    (r.words ?? []).forEach((w, i) => new DataView(init.buffer).setBigUint64(i * 8, BigInt.asUintN(64, w), true));
    regions[r.name] = machine.allocate(r.name, r.size, init);
  }
  const arg = (a: bigint | string): bigint => {
    if (typeof a === 'bigint') return a;
    const [name, off] = a.split('+');
    const base = regions[name!] ?? address(image, name!);
    return base + BigInt(off ?? 0);
  };
  const tids = setup.threads.map(
    (t) => machine.spawn({ entry: address(image, t.entry), args: (t.args ?? []).map(arg), ...(t.cpu !== undefined ? { cpu: t.cpu } : {}), ...(t.repeat !== undefined ? { repeat: t.repeat } : {}) }).tid,
  );
  return { machine, regions, tids };
}

export interface Ran extends Booted {
  outcome: MachineOutcome;
  /** Each region's u64 words after the run. */
  memory: Record<string, bigint[]>;
}

export interface RunWith {
  /** A schedule string (`c0:4 T1:preempt c1:*`). */
  schedule?: string;
  /** Location events in the CLI syntax (`preempt@label`). */
  events?: string[];
  trace?: boolean;
  onSwitchOut?: RunOptions['onSwitchOut'];
}

/** Boots and runs; the machine stays open for inspection (close it). */
export function runThreads(image: Image, setup: Setup, how: RunWith = {}): Ran {
  const booted = boot(image, setup);
  const { machine, regions } = booted;
  try {
    const outcome = machine.run({
      ...(how.schedule !== undefined ? { schedule: parseSchedule(how.schedule) } : {}),
      events: (how.events ?? []).map((e) => parseEvent(e, image, machine.cpus)),
      ...(how.trace !== undefined ? { trace: how.trace } : {}),
      ...(how.onSwitchOut ? { onSwitchOut: how.onSwitchOut } : {}),
    });
    const memory: Record<string, bigint[]> = {};
    for (const r of setup.regions ?? []) memory[r.name] = words(machine.emu.read(regions[r.name]!, r.size));
    return { ...booted, outcome, memory };
  } catch (e) {
    machine.close();
    throw e;
  }
}

/** Runs and closes the machine: for tests that only look at the outcome and the regions. */
export function runClosed(image: Image, setup: Setup, how: RunWith = {}): Omit<Ran, 'machine'> {
  const r = runThreads(image, setup, how);
  r.machine.close();
  const { machine: _closed, ...rest } = r;
  return rest;
}

/** The thread's registered (glibc-style) rseq area. */
export function areaOf(machine: Machine, tid: number): RseqArea {
  return readRseqArea(machine.emu, machine.rseqArea(tid));
}

/** Every mapped byte of every process, with the region bounds: equal snapshots mean identical memory. */
export function memoryImage(machine: Machine): string[] {
  const out: string[] = [];
  for (const p of machine.processes) {
    for (const r of p.emu.regions()) out.push(`${p.pid}:${r.begin.toString(16)}-${r.end.toString(16)}:${Buffer.from(p.emu.read(r.begin, Number(r.end - r.begin))).toString('base64')}`);
  }
  return out;
}

/** Everything a run left behind that a replay must reproduce. */
export function fingerprint(r: Ran): unknown {
  const o = r.outcome;
  return {
    memory: memoryImage(r.machine),
    threads: o.threads.map((t) => ({ ...t, registers: r.machine.registersOf(r.machine.thread(t.tid)!) })),
    events: o.events.map(({ spec: _spec, ...e }) => e),
    syscalls: o.syscalls,
    output: o.output,
    status: o.status,
    instructions: o.instructions,
  };
}

/** The signed value of a syscall return (rax): -22 for -EINVAL. */
export const signed = (v: bigint): bigint => BigInt.asIntN(64, v);

/**
 * Asm for a function `NAME(rdi = m)` with one critical section around `body`: the section is armed
 * at `NAME_retry`, starts at `NAME_start`, ends at `NAME_post`. The commit path returns
 * (rax << 8) | 1 with rax as left by `body`; the abort handler counts aborts in m[15] (m + 120,
 * through r15, which the body must keep) and returns (rax << 8) | 2 if `abortReturns`, else retries. rcx holds __rseq_offset at
 * the start of the body. A system call as the body's last instruction returns to the post-commit
 * address, outside the section: follow it with another instruction.
 */
export function sectionFunction(name: string, body: string, opts: { abortReturns?: boolean; sig?: number } = {}): string {
  const sig = opts.sig ?? 0x53053053;
  return `
  ${name}:
      movq %rdi, %r15
      movq __rseq_offset(%rip), %rcx
  ${name}_retry:
      leaq ${name}_cs(%rip), %rax
      movq %rax, %fs:8(%rcx)
  ${name}_start:
      ${body}
  ${name}_post:
      shlq $8, %rax
      orq $1, %rax
      ret
      .pushsection __rseq_cs, "aw"
      .balign 32
  ${name}_cs:
      .long 0, 0
      .quad ${name}_start, ${name}_post - ${name}_start, ${name}_abort
      .popsection
      .byte 0x0f, 0xb9, 0x3d
      .long ${sig}
  ${name}_abort:
      incq 120(%r15)
      ${opts.abortReturns ? 'shlq $8, %rax\n      orq $2, %rax\n      ret' : `movq __rseq_offset(%rip), %rcx\n      jmp ${name}_retry`}`;
}

/** How a `sectionFunction` with `abortReturns` ended, from its return value. */
export const path = (ret: bigint): 'committed' | 'aborted' | 'other' => (ret & 0xffn) === 1n ? 'committed' : (ret & 0xffn) === 2n ? 'aborted' : 'other';

/** Two threads of counter_add adding 1 and 10 to the per-CPU counters, on the given CPUs. */
export const twoAdders = (cpus: [number, number]): Setup => ({
  regions: [{ name: 'counters', size: 16 }],
  threads: [
    { entry: 'counter_add', args: ['counters', 1n], cpu: cpus[0] },
    { entry: 'counter_add', args: ['counters', 10n], cpu: cpus[1] },
  ],
});

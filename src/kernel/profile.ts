// Kernel versions, debug options, known bugs and unmerged proposals, as combinable profiles
// (`--profile linux,bug-kvm-run`). Spec sections 6 and 7.
import { usageError } from '../errors.js';

export type KernelBase = 'linux' | 'linux-5.x' | 'linux-6.19';

export interface Profile {
  /** linux: 6.1–6.18 legacy semantics; linux-5.x: NO_RESTART flags, 32-byte areas only; linux-6.19: the optimized rewrite. */
  base: KernelBase;
  /** CONFIG_DEBUG_RSEQ. */
  debug: boolean;
  /** fork children placed on another CPU without rseq_migrate (fixed by ce3614daabea, v5.8). */
  bugNewTaskCpuId: boolean;
  /** a migration during KVM_RUN loses the notify-resume work (fixed by a68de80f61f6 and 8646e53633f3, v5.15). */
  bugKvmRun: boolean;
  /** RSEQ_FLAG_REGISTER | RSEQ_FLAG_RELIABLE_CPU_ID (July 2020 proposal). */
  reliableCpuIdFlag: boolean;
  /** the 2017 cpu_opv system call (x86-64 number 335): per-CPU operation vectors run with preemption off. */
  cpuOpv: boolean;
}

export const DEFAULT_PROFILE: Profile = { base: 'linux', debug: false, bugNewTaskCpuId: false, bugKvmRun: false, reliableCpuIdFlag: false, cpuOpv: false };

export const PROFILE_NAMES = ['linux', 'linux-5.x', 'linux-6.19', 'debug-rseq', 'bug-new-task-cpu-id', 'bug-kvm-run', 'proposal-reliable-cpu-id', 'proposal-cpu-opv'] as const;

/** Parses a comma-separated list; conflicting or anachronistic combinations are errors. */
export function parseProfile(text: string): Profile {
  const p: Profile = { ...DEFAULT_PROFILE };
  let base: KernelBase | null = null;
  for (const raw of text.split(',')) {
    const name = raw.trim();
    switch (name) {
      case 'linux':
      case 'linux-5.x':
      case 'linux-6.19':
        if (base !== null && base !== name) throw usageError(`--profile: '${base}' and '${name}' are different kernels; pick one`);
        base = name;
        break;
      case 'debug-rseq':
        p.debug = true;
        break;
      case 'bug-new-task-cpu-id':
        p.bugNewTaskCpuId = true;
        break;
      case 'bug-kvm-run':
        p.bugKvmRun = true;
        break;
      case 'proposal-reliable-cpu-id':
        p.reliableCpuIdFlag = true;
        break;
      case 'proposal-cpu-opv':
        p.cpuOpv = true;
        break;
      default:
        throw usageError(`--profile: unknown profile '${name}' (known: ${PROFILE_NAMES.join(', ')})`);
    }
  }
  p.base = base ?? 'linux';
  if (p.base === 'linux-6.19' && (p.bugNewTaskCpuId || p.bugKvmRun)) {
    throw usageError(`--profile: ${p.bugNewTaskCpuId ? 'bug-new-task-cpu-id (fixed in v5.8)' : 'bug-kvm-run (fixed in v5.15)'} cannot be combined with linux-6.19, whose rseq code was rewritten long after the fix`);
  }
  return p;
}

export function profileName(p: Profile): string {
  return [p.base, p.debug && 'debug-rseq', p.bugNewTaskCpuId && 'bug-new-task-cpu-id', p.bugKvmRun && 'bug-kvm-run', p.reliableCpuIdFlag && 'proposal-reliable-cpu-id', p.cpuOpv && 'proposal-cpu-opv'].filter(Boolean).join(',');
}

/** Whether the profile carries a known cpu_id bug (the reliable-cpu-id proposal refuses registration then). */
export const hasCpuIdBug = (p: Profile): boolean => p.bugNewTaskCpuId || p.bugKvmRun;

// The kernel's side: builds test/fidelity/harness.c with an op's source using the installed gcc,
// feeds it rows and normalises its JSON lines.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { word, type EventKind, type OpCase, type Row } from './rows.js';

const PROBE = `#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
#if !defined(__x86_64__)
  puts("not x86-64"); return 1;
#else
  long r = syscall(SYS_rseq, 0, 0, 0, 0);
  if (r == -1 && errno == ENOSYS) { puts("the kernel has no rseq (ENOSYS)"); return 1; }
  if (r == -1 && errno == EINVAL) return 0;
  printf("rseq(NULL, 0, 0, 0) gave %ld errno %d, not EINVAL\\n", r, errno); return 1;
#endif
}
`;

/** Why the native side cannot run here, or null when it can. */
export function unavailable(dir: string): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `not Linux on x86-64 (${process.platform}/${process.arch})`;
  const src = path.join(dir, 'probe.c');
  fs.writeFileSync(src, PROBE);
  const cc = spawnSync('gcc', ['-O1', src, '-o', path.join(dir, 'probe')], { encoding: 'utf8', timeout: 30_000 });
  if (cc.error || cc.status !== 0) return `gcc cannot build the probe: ${cc.error?.message ?? cc.stderr}`;
  const run = spawnSync(path.join(dir, 'probe'), { encoding: 'utf8', timeout: 10_000 });
  if (run.status !== 0) return run.stdout.trim() || `probe failed (${run.status})`;
  if (os.cpus().length < 2) return 'fewer than 2 CPUs: migrate rows need two';
  return null;
}

export function build(dir: string, source: string, harnessSource: string): string {
  const out = path.join(dir, path.basename(source).replace(/[^A-Za-z0-9]/g, '_'));
  const cc = spawnSync('gcc', ['-O1', '-no-pie', '-rdynamic', '-Wa,--noexecstack', harnessSource, source, '-o', out], { encoding: 'utf8', timeout: 60_000 });
  if (cc.status !== 0) throw new Error(`gcc ${source}: ${cc.stderr}`);
  return out;
}

interface HarnessLine {
  kind: string;
  offset: number;
  reached: boolean;
  resume?: string;
  rseqCsBefore?: string;
  rseqCsAfter?: string;
  cpuIdStart?: number;
  cpuId?: number;
  registered?: boolean;
  eventTask?: number;
  /** The signal that killed the task the event hit (0: it exited). */
  eventSignal?: number;
  perturbed?: number;
  noMemory?: boolean;
  end: 'exit' | 'signal';
  signal?: number;
  diedAt?: string;
  exitCode?: number;
  rax: string;
  base: string;
  memory: string[];
}

export interface Probe {
  kind: EventKind;
  offset: number;
}

/** Runs every probe once in one harness process; one normalised row per probe, in order. */
export function runNative(binary: string, op: OpCase, probes: readonly Probe[]): Row[] {
  const env = op.registration === 'none' ? { ...process.env, GLIBC_TUNABLES: 'glibc.pthread.rseq=0', FIDELITY_UNREGISTERED: '1' } : process.env;
  const input = probes.map((p) => `${p.kind} ${p.offset}\n`).join('');
  const r = spawnSync(binary, [op.entry, String(op.memSize), op.init.join(',') || '0', ...op.args], { input, encoding: 'utf8', timeout: 120_000, env });
  if (r.status !== 0) throw new Error(`${binary}: status ${r.status} signal ${r.signal}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as HarnessLine);
  if (lines.length !== probes.length) throw new Error(`${binary}: ${lines.length} rows for ${probes.length} probes\n${r.stderr}`);
  return lines.map((l) => normalise(l, op));
}

function normalise(l: HarnessLine, op: OpCase): Row {
  const base = BigInt(l.base);
  const end = l.end === 'exit' ? `exit ${l.exitCode}` : `signal ${l.signal}`;
  const row: Row = { reached: l.reached, end, memory: l.noMemory ? ['not read'] : l.memory.map((w) => word(BigInt(w), base, op.memSize)) };
  if (l.perturbed) row.perturbed = l.perturbed;
  // The harness's child exits 0 after the call returns; another status came from the program.
  if (l.end === 'exit' && l.exitCode === 0) row.rax = word(BigInt(l.rax), base, op.memSize);
  if (l.end === 'signal') row.diedAt = l.diedAt;
  if (!l.reached) return row;
  if (l.eventTask) row.eventTask = l.eventTask;
  if (l.resume === undefined) {
    // Killed between the event and the first instruction after it: the rseq fix-up failed. The
    // task the event hit may be a fork child, whose death does not end the call.
    row.outcome = l.eventSignal === 11 || (l.end === 'signal' && l.signal === 11) ? 'sigsegv' : 'none';
    return row;
  }
  row.resume = l.resume;
  row.outcome = l.resume.startsWith('abort') ? 'aborted' : l.rseqCsBefore !== '0' && l.rseqCsAfter === '0' ? 'cleared' : 'none';
  row.cpuAfter = l.registered && l.cpuIdStart === l.cpuId ? l.cpuId : -1;
  return row;
}

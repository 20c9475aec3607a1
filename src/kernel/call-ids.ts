// The ids (cpu_id, node_id, mm_cid) each call of a thread's entry function could observe, which
// the serializability oracle replays it with: those in its rseq area when it began, each set the
// kernel wrote there during it, and moves the area does not show (see Machine.moveThread).
import type { RseqIds, Thread } from './thread.js';

/** Adds `ids` to the call in progress, once. */
export function noteIds(t: Thread, ids: RseqIds): void {
  const seen = t.program?.idsThisCall;
  if (seen && !seen.some((s) => s.cpu === ids.cpu && s.node === ids.node && s.mmCid === ids.mmCid)) t.program!.idsThisCall = [...seen, { ...ids }];
}

/** A call begins: it can observe the ids already published to it (only its CPU when unregistered). */
export function startCallIds(t: Thread): void {
  if (!t.program) return;
  t.program.idsThisCall = [];
  const published = t.rseq ? t.lastIds : { cpu: t.cpu, node: 0, mmCid: 0 };
  if (published) noteIds(t, published);
}

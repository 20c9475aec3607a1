// Finds an image's critical sections the way a debugger is meant to: through the descriptors in
// `__rseq_cs`, the pointers in `__rseq_cs_ptr_array`, the older `__rseq_table` (descriptors in
// place) and the (start_ip, exit_ip) pairs of `__rseq_exit_point_array`.
import { imageBytes, lineAt, sectionNamed, type Image, type ImageSection, type LineRecord } from '../asm/image.js';
import { RseqEmuError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { hex, type Address } from '../types.js';
import { decodeRseqCs, RSEQ_CS_SIZE, u64Words, type RseqCs } from './rseq.js';

export type TableName = '__rseq_cs' | '__rseq_cs_ptr_array' | '__rseq_table';

export interface CriticalSection extends RseqCs {
  /** Address of the `struct rseq_cs`. */
  descriptor: Address;
  /** start_ip + post_commit_offset (wrapping at 64 bits). */
  postCommitIp: Address;
  /** Which tables list this descriptor. */
  listedIn: TableName[];
  startLine: LineRecord | undefined;
  abortLine: LineRecord | undefined;
}

export interface ExitPoint {
  startIp: Address;
  exitIp: Address;
}

export interface TableProblem {
  table: string;
  /** Where the problem is: the table entry (or section) itself, not what it points to. */
  address: Address;
  message: string;
}

export interface RseqTables {
  sections: CriticalSection[];
  exitPoints: ExitPoint[];
  /** Which of the tables the image has at all. */
  present: TableName[];
  hasExitPointArray: boolean;
  problems: TableProblem[];
}

/**
 * A table of more entries than the limit is refused before it is read: a `.fill` of millions of
 * null pointers (found by fuzzing) made one finding per entry and took gigabytes.
 */
function checkEntryCount(image: Image, s: ImageSection, entrySize: number): void {
  const n = Math.floor(s.bytes.length / entrySize);
  if (n > LIMITS.tableEntries) {
    const at = lineAt(image, s.address)?.loc;
    throw new RseqEmuError('INPUT', `${s.name} has ${n} entries, more than the ${LIMITS.tableEntries} of the limit tableEntries (--limit tableEntries=N)`, at, at ? undefined : s.address);
  }
}

/** Problems of one table past this many are counted in one last problem, not listed. */
const PROBLEMS_PER_TABLE = 100;

export function readRseqTables(image: Image): RseqTables {
  const found = new Map<Address, CriticalSection>();
  const problems: TableProblem[] = [];
  const present: TableName[] = [];
  const problemCount = new Map<string, number>();
  const problem = (p: TableProblem) => {
    const n = (problemCount.get(p.table) ?? 0) + 1;
    problemCount.set(p.table, n);
    if (n <= PROBLEMS_PER_TABLE) problems.push(p);
  };

  /** `slot` is where the entry that names the descriptor lives (the descriptor itself for in-place tables). */
  const addDescriptor = (address: Address, table: TableName, slot: Address = address) => {
    const existing = found.get(address);
    if (existing) {
      if (!existing.listedIn.includes(table)) existing.listedIn.push(table);
      return;
    }
    const bytes = imageBytes(image, address, RSEQ_CS_SIZE);
    if (!bytes) {
      problem({ table, address: slot, message: `${table} entry ${hex(address)} does not point to 32 bytes of the image` });
      return;
    }
    const cs = decodeRseqCs(bytes);
    const postCommitIp = BigInt.asUintN(64, cs.startIp + cs.postCommitOffset);
    found.set(address, { ...cs, descriptor: address, postCommitIp, listedIn: [table], startLine: lineAt(image, cs.startIp), abortLine: lineAt(image, cs.abortIp) });
  };

  // Descriptors stored in place: every 32-byte slot that is not all zero padding.
  for (const name of ['__rseq_cs', '__rseq_table'] as const) {
    const s = sectionNamed(image, name);
    if (!s) continue;
    present.push(name);
    checkEntryCount(image, s, RSEQ_CS_SIZE);
    if (s.bytes.length % RSEQ_CS_SIZE !== 0) problems.push({ table: name, address: s.address, message: `${name} is ${s.bytes.length} bytes, not a multiple of 32` });
    for (let off = 0; off + RSEQ_CS_SIZE <= s.bytes.length; off += RSEQ_CS_SIZE) {
      if (s.bytes.subarray(off, off + RSEQ_CS_SIZE).some((b) => b !== 0)) addDescriptor(s.address + BigInt(off), name);
    }
  }
  const ptrs = sectionNamed(image, '__rseq_cs_ptr_array');
  if (ptrs) {
    present.push('__rseq_cs_ptr_array');
    checkEntryCount(image, ptrs, 8);
    if (ptrs.bytes.length % 8 !== 0) problems.push({ table: ptrs.name, address: ptrs.address, message: `__rseq_cs_ptr_array is ${ptrs.bytes.length} bytes, not a multiple of 8` });
    u64Words(ptrs.bytes).forEach((p, i) => addDescriptor(p, '__rseq_cs_ptr_array', ptrs.address + BigInt(i * 8)));
  }
  const exits = sectionNamed(image, '__rseq_exit_point_array');
  const exitPoints: ExitPoint[] = [];
  if (exits) {
    checkEntryCount(image, exits, 16);
    if (exits.bytes.length % 16 !== 0) problems.push({ table: exits.name, address: exits.address, message: `__rseq_exit_point_array is ${exits.bytes.length} bytes, not a multiple of 16` });
    const words = u64Words(exits.bytes);
    for (let i = 0; i + 1 < words.length; i += 2) exitPoints.push({ startIp: words[i]!, exitIp: words[i + 1]! });
  }
  for (const [table, n] of problemCount) {
    if (n > PROBLEMS_PER_TABLE) problems.push({ table, address: sectionNamed(image, table)!.address, message: `${n - PROBLEMS_PER_TABLE} more entries of ${table} with problems are not listed` });
  }
  const sections = [...found.values()].sort((a, b) => (a.startIp < b.startIp ? -1 : a.startIp > b.startIp ? 1 : 0));
  return { sections, exitPoints, present, hasExitPointArray: exits !== undefined, problems };
}

/** The critical section whose [start, post-commit) range holds `ip`, using the kernel's unsigned test. */
export function sectionContaining(sections: readonly CriticalSection[], ip: Address): CriticalSection | undefined {
  return sections.find((s) => BigInt.asUintN(64, ip - s.startIp) < s.postCommitOffset);
}

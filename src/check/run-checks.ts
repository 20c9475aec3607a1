// `rseq-emu check`'s pipeline: image → tables, program graph and data flow → every rule family →
// findings sorted by file and line. Sections are found twice over: through the tables, and through
// the code's own stores into rseq_cs, so a descriptor no table lists is still checked.
import { loadCapstone } from '../asm/capstone.js';
import { findSymbol, imageBytes, lineAt, type Image } from '../asm/image.js';
import { GLIBC_DEFAULTS, type GlibcRseqExports } from '../abi/glibc.js';
import { decodeRseqCs, RSEQ_CS_SIZE, RSEQ_SIG } from '../abi/rseq.js';
import { readRseqTables, type CriticalSection } from '../abi/tables.js';
import { ConstantMemory } from './constant-memory.js';
import { analyse, type ArmingStore } from './dataflow.js';
import { sectionEntries } from './entries.js';
import { sortFindings, type Finding } from './finding.js';
import { ProgramGraph } from './program-graph.js';
import { abortRules } from './rules/abort.js';
import { commitRules } from './rules/commit.js';
import { analysable, descriptorRules } from './rules/descriptor.js';
import { setupRules } from './rules/setup.js';
import { tableRules } from './rules/table.js';

export interface CheckOptions {
  /** The signature the program registers rseq with (default RSEQ_SIG). */
  sig?: number;
  /** The emulated glibc, whose __rseq_offset tells where absolute `%fs:` forms find the rseq area. */
  glibc?: GlibcRseqExports;
}

/** Descriptors the code stores into rseq_cs that no table lists, read from the image like listed ones. */
function armedOnly(image: Image, listed: readonly CriticalSection[], arming: readonly ArmingStore[]): CriticalSection[] {
  const out = new Map<bigint, CriticalSection>();
  for (const { descriptor } of arming) {
    if (out.has(descriptor) || listed.some((cs) => cs.descriptor === descriptor)) continue;
    const bytes = imageBytes(image, descriptor, RSEQ_CS_SIZE);
    if (!bytes) continue; // descriptor/unreadable
    const cs = decodeRseqCs(bytes);
    const postCommitIp = BigInt.asUintN(64, cs.startIp + cs.postCommitOffset);
    out.set(descriptor, { ...cs, descriptor, postCommitIp, listedIn: [], startLine: lineAt(image, cs.startIp), abortLine: lineAt(image, cs.abortIp) });
  }
  return [...out.values()];
}

export async function runChecks(image: Image, options: CheckOptions = {}): Promise<Finding[]> {
  await loadCapstone();
  const sig = options.sig ?? RSEQ_SIG;
  const tables = readRseqTables(image);
  const graph = new ProgramGraph(image);
  const flow = analyse(graph, {
    areaOffsets: [(options.glibc ?? GLIBC_DEFAULTS).rseqOffset],
    rseqOffsetVariables: [findSymbol(image, '__rseq_offset')?.address].filter((a) => a !== undefined),
    listed: tables.sections,
    memory: new ConstantMemory(image, graph.instructions),
  });
  const arming = flow.armingStores;
  const sections = [...tables.sections, ...armedOnly(image, tables.sections, arming)];
  const analysed = sections.filter((cs) => analysable(image, cs));
  const entries = sectionEntries(graph, analysed, arming);
  return sortFindings([
    ...descriptorRules(image, graph, sections, arming, sig),
    ...abortRules(image, graph, sections, entries, sig),
    ...tableRules(image, graph, tables, sections, analysed, arming),
    ...commitRules(image, graph, flow, analysed, arming),
    ...setupRules(image, graph, flow, analysed, entries, arming),
  ]);
}

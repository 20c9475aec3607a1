// The library API: the same pipeline the CLI drives — source → image → machine → outcome → report.
export type { Address, CpuId, SourceLocation } from './types.js';
export { hex } from './types.js';
export { RseqEmuError, type ErrorCode } from './errors.js';
export { assemble, type AssembleOptions } from './asm/assembler.js';
export { findSymbol, symbolize, type Image, type ImageSection, type ImageSymbol, type LineRecord } from './asm/image.js';
export { assembleSource, loadProgram } from './program.js';
export { GLIBC_DEFAULTS, glibcSymbols, type GlibcRseqExports } from './abi/glibc.js';
export * from './abi/rseq.js';
export { readRseqTables, sectionContaining, type CriticalSection, type ExitPoint, type RseqTables } from './abi/tables.js';
export { Machine, type CallOptions, type MachineOptions, type Registration, type SwitchOut } from './kernel/machine.js';
export { parseEvent, resolveLocation, type EventSpec, type EventAction, type EventPlace } from './kernel/event-spec.js';
export type { RunOutcome, RunStatus, EventRecord, EventOutcome, SyscallRecord, TraceStep } from './kernel/outcome.js';
export { decideFixup, validateDescriptor, type FixupDecision } from './kernel/rseq-fixup.js';
export { disassemblyListing } from './report/listing.js';
export { runJson, runText } from './report/run-report.js';

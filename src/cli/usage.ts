// Every command's usage text, in a module of its own so `--help` and usage errors load no command
// (and so no emulator, assembler or disassembler).

export const RUN_USAGE =
  'rseq-emu run FILE.s (--entry SYM [--arg V]... | --threads SPEC) [--memory NAME:SIZE[:W,W...]]... [--cpu N] [--cpus N]\n' +
  '             [--registration glibc|none] [--profile P[,P...]] [--schedule S] [--event KIND@WHERE]... [--max-insns N] [--time-slice N] [--timeout S] [--trace] [--json] [--html FILE]\n' +
  '  rseq-emu run SCENARIO.json [--profile P] [--schedule S] [--event KIND@WHERE]... [--max-insns N] [--time-slice N] [--timeout S] [--trace] [--json] [--html FILE]';
export const EXPLORE_USAGE =
  'rseq-emu explore (SCENARIO.json | FILE.s --threads SPEC [--memory NAME:SIZE[:W,...]]... [--cpus N]) [--profile P]\n' +
  '             [--mode exhaustive|pct] [--preemptions K] [--depth D] [--runs N] [--seed S] [--kinds preempt,migrate,signal,switch,split]\n' +
  '             [--max-schedules N] [--schedule-budget N] [--timeout S] [--stop-at-first] [--max-insns N] [--time-slice N] [--workers N] [--traces N] [--shard I/N] [--json] [--html FILE]\n' +
  '             [--state-cache | --no-state-cache | --cross-check] [--state-cache-entries N]';
export const MERGE_USAGE = 'rseq-emu merge RESULT.json... [--json]   (the --json results of explore --shard 1/N … N/N)';
export const CHECK_USAGE = 'rseq-emu check FILE [--sig 0xHEX] [--format text|json|sarif] [--html FILE]';
export const STEP_USAGE =
  'rseq-emu step (FILE --entry SYM [--arg V]... [--memory NAME:SIZE[:W,...]]... | SCENARIO.json [--thread N])\n' +
  '              [--by stepi|step|next] [--strategy linux|rseq-aware|no-rseq] [--break WHERE]... [--max-steps N] [--profile P] [--json] [--html FILE]';
export const GDBSERVER_USAGE =
  'rseq-emu gdbserver (FILE --entry SYM [--arg V]... [--memory NAME:SIZE[:W,...]]... | SCENARIO.json)\n' +
  '                   [--listen [HOST:]PORT | --stdio] [--elf OUT.elf] [--profile P] [--stepping linux|rseq-aware] [--max-insns N]';

export const USAGE = `usage:
  ${RUN_USAGE}
  rseq-emu disasm FILE
  ${CHECK_USAGE}
  ${EXPLORE_USAGE}
  ${MERGE_USAGE}
  rseq-emu limits              (every limit and its value; any command takes --limit NAME=N[,NAME=N])
  ${STEP_USAGE}
  ${GDBSERVER_USAGE}
Events: preempt@WHERE, migrate:N@WHERE, signal[:SIG]@WHERE; WHERE is LABEL[+OFFSET], 0xADDRESS or #K.
Exit status: 0 the entry returned, 1 the program was killed, faulted or ran out of budget, 2 bad input or usage.
check: 0 no finding is an error, 1 at least one is, 2 bad input or usage.
explore, merge: 0 no violation found, 1 a violation found, 2 bad input or usage.
step: 0 completed, 1 livelock, killed or out of steps, 2 bad input or usage.
gdbserver: 0 after the connection ends, 2 bad input or usage.`;

/** Each command's full usage, printed by `rseq-emu COMMAND --help`. */
export const COMMAND_USAGE: Record<string, string> = {
  run: RUN_USAGE,
  disasm: 'rseq-emu disasm FILE',
  check: CHECK_USAGE,
  explore: EXPLORE_USAGE,
  merge: MERGE_USAGE,
  step: STEP_USAGE,
  gdbserver: GDBSERVER_USAGE,
};


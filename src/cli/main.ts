// The `rseq-emu` command. Every error the user can cause ends as one line on stderr and exit 2.
// bin/rseq-emu.js runs it on the process's streams; the fuzz suite runs it in-process.
// Commands are imported when they run: `--help` and usage errors start in a fraction of the time.
import { RseqEmuError, usageError } from '../errors.js';
import { applyLimits, DEFAULT_LIMITS, limitDescriptions, LIMITS, parseLimits } from '../limits.js';
import { positionalProblem } from './args.js';
import { COMMAND_USAGE, USAGE } from './usage.js';
import { takeLimits } from './limit-options.js';

export { v8FlagsFor } from './v8-flags.js';

async function main(argv: string[], print: (s: string) => void, progress: (s: string) => void): Promise<number> {
  const taken = takeLimits(argv);
  for (const l of taken.limits) applyLimits(parseLimits(l));
  const [command, ...rest] = taken.rest;
  if (command === 'limits') {
    print(limitDescriptions().map((l) => `${l.name.padEnd(20)} ${String(LIMITS[l.name]).padStart(10)}  (at most ${l.max}) ${l.what}`).join('\n') + '\n');
    return 0;
  }
  if (command !== undefined && COMMAND_USAGE[command] && rest.some((a) => a === '--help' || a === '-h')) {
    print(`usage: ${COMMAND_USAGE[command]}\n`);
    return 0;
  }
  switch (command) {
    case 'run':
      return (await import('./run-command.js')).runCommand(rest, print);
    case 'check':
      return (await import('./check-command.js')).checkCommand(rest, print);
    case 'explore':
      return (await import('./explore-command.js')).exploreCommand(rest, print, progress);
    case 'merge':
      return (await import('./merge-command.js')).mergeCommand(rest, print);
    case 'step':
      return (await import('./step-command.js')).stepCommand(rest, print);
    case 'gdbserver':
      return (await import('./gdbserver-command.js')).gdbserverCommand(rest, (s) => process.stderr.write(s));
    case 'disasm': {
      if (rest.length !== 1 || rest[0]!.startsWith('--')) throw usageError(rest.length === 1 ? `unknown option ${rest[0]}` : positionalProblem(rest, 'FILE'));
      const [{ loadProgram }, { disassemblyListing }, { readRseqTables }] = await Promise.all([import('../program.js'), import('../report/listing.js'), import('../abi/tables.js')]);
      const image = await loadProgram(rest[0]!);
      print(disassemblyListing(image, readRseqTables(image)));
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      print(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      throw usageError(`unknown command '${command}' (commands: ${Object.keys(COMMAND_USAGE).join(', ')}; see 'rseq-emu --help')`);
  }
}

/** One line whatever the message holds: control characters (a newline in a path) are escaped. */
/** Longest error line printed: a message that quotes a huge input (a 200 KB argument) is cut, not dumped. */
const MAX_ERROR_LINE = 1000;

const oneLine = (s: string): string => {
  const line = s.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
  return line.length > MAX_ERROR_LINE ? `${line.slice(0, MAX_ERROR_LINE)}… (${line.length} characters in all)` : line;
};

/** Where a command writes: its report, its one-line errors, and progress (a terminal's only). */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  progress: (s: string) => void;
}

/**
 * The whole command: runs argv and returns the exit status. Every error becomes one line on `err`
 * and status 2; an error that is not the input's fault is reported as an internal error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: string | undefined;
  try {
    command = takeLimits(argv).rest[0];
    return await main([...argv], io.out, io.progress);
  } catch (e) {
    if (e instanceof RseqEmuError) {
      const help = e.code === 'USAGE' && command !== undefined && COMMAND_USAGE[command] ? ` (see 'rseq-emu ${command} --help')` : '';
      io.err(`rseq-emu: ${oneLine(e.oneLine())}${help}\n`);
    } else {
      io.err(`rseq-emu: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
      if (process.env.RSEQ_EMU_DEBUG) io.err(`${e instanceof Error ? e.stack : ''}\n`);
    }
    return 2;
  } finally {
    applyLimits(DEFAULT_LIMITS); // --limit holds for one command
  }
}

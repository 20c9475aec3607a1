// The `rseq-emu` command. Every error the user can cause ends as one line on stderr and exit 2.
// bin/rseq-emu.js runs it on the process's streams; the fuzz suite runs it in-process.
import { readRseqTables } from '../abi/tables.js';
import { RseqEmuError, usageError } from '../errors.js';
import { loadProgram } from '../program.js';
import { disassemblyListing } from '../report/listing.js';
import { applyLimits, DEFAULT_LIMITS, limitDescriptions, LIMITS, parseLimits } from '../limits.js';
import { positionalProblem } from './args.js';
import { CHECK_USAGE, checkCommand } from './check-command.js';
import { EXPLORE_USAGE, exploreCommand } from './explore-command.js';
import { RUN_USAGE, runCommand } from './run-command.js';
import { STEP_USAGE, stepCommand } from './step-command.js';
import { GDBSERVER_USAGE, gdbserverCommand } from './gdbserver-command.js';

const USAGE = `usage:
  ${RUN_USAGE}
  rseq-emu disasm FILE
  ${CHECK_USAGE}
  ${EXPLORE_USAGE}
  rseq-emu limits              (every limit and its value; any command takes --limit NAME=N[,NAME=N])
  ${STEP_USAGE}
  ${GDBSERVER_USAGE}
Events: preempt@WHERE, migrate:N@WHERE, signal[:SIG]@WHERE; WHERE is LABEL[+OFFSET], 0xADDRESS or #K.
Exit status: 0 the entry returned, 1 the program was killed, faulted or ran out of budget, 2 bad input or usage.
check: 0 no finding is an error, 1 at least one is, 2 bad input or usage.
explore: 0 no violation found, 1 a violation found, 2 bad input or usage.
step: 0 completed, 1 livelock, killed or out of steps, 2 bad input or usage.
gdbserver: 0 after the connection ends, 2 bad input or usage.`;

/** Each command's full usage, printed by `rseq-emu COMMAND --help`. */
const COMMAND_USAGE: Record<string, string> = {
  run: RUN_USAGE,
  disasm: 'rseq-emu disasm FILE',
  check: CHECK_USAGE,
  explore: EXPLORE_USAGE,
  step: STEP_USAGE,
};

/** `--limit NAME=N[,NAME=N]`, accepted by every command: taken out before the command reads its options. */
function takeLimits(argv: readonly string[]): { rest: string[]; limits: string[] } {
  const rest: string[] = [];
  const limits: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--limit' || a.startsWith('--limit=')) {
      const value = a === '--limit' ? argv[++i] : a.slice('--limit='.length);
      if (value === undefined) throw usageError('--limit needs NAME=N');
      limits.push(value);
    } else rest.push(a);
  }
  return { rest, limits };
}

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
      return runCommand(rest, print);
    case 'check':
      return checkCommand(rest, print);
    case 'explore':
      return exploreCommand(rest, print, progress);
    case 'step':
      return stepCommand(rest, print);
    case 'gdbserver':
      return gdbserverCommand(rest, (s) => process.stderr.write(s));
    case 'disasm': {
      if (rest.length !== 1 || rest[0]!.startsWith('--')) throw usageError(rest.length === 1 ? `unknown option ${rest[0]}` : positionalProblem(rest, 'FILE'));
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
const oneLine = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));

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

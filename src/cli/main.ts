// The `rseq-emu` command. Every error the user can cause ends as one line on stderr and exit 2.
import { readRseqTables } from '../abi/tables.js';
import { RseqEmuError, usageError } from '../errors.js';
import { loadProgram } from '../program.js';
import { disassemblyListing } from '../report/listing.js';
import { applyLimits, limitDescriptions, LIMITS, parseLimits } from '../limits.js';
import { positionalProblem } from './args.js';
import { CHECK_USAGE, checkCommand } from './check-command.js';
import { EXPLORE_USAGE, exploreCommand } from './explore-command.js';
import { RUN_USAGE, runCommand } from './run-command.js';

const USAGE = `usage:
  ${RUN_USAGE}
  rseq-emu disasm FILE
  ${CHECK_USAGE}
  ${EXPLORE_USAGE}
  rseq-emu limits              (every limit and its value; any command takes --limit NAME=N[,NAME=N])
Events: preempt@WHERE, migrate:N@WHERE, signal[:SIG]@WHERE; WHERE is LABEL[+OFFSET], 0xADDRESS or #K.
Exit status: 0 the entry returned, 1 the program was killed, faulted or ran out of budget, 2 bad input or usage.
check: 0 no finding is an error, 1 at least one is, 2 bad input or usage.
explore: 0 no violation found, 1 a violation found, 2 bad input or usage.`;

/** Each command's full usage, printed by `rseq-emu COMMAND --help`. */
const COMMAND_USAGE: Record<string, string> = {
  run: RUN_USAGE,
  disasm: 'rseq-emu disasm FILE',
  check: CHECK_USAGE,
  explore: EXPLORE_USAGE,
};

/** `--limit NAME=N[,NAME=N]`, accepted by every command: taken out before the command reads its options. */
function takeLimits(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--limit' || a.startsWith('--limit=')) {
      const value = a === '--limit' ? argv[++i] : a.slice('--limit='.length);
      if (value === undefined) throw usageError('--limit needs NAME=N');
      applyLimits(parseLimits(value));
    } else out.push(a);
  }
  return out;
}

async function main(argv: string[], print: (s: string) => void): Promise<number> {
  const [command, ...rest] = takeLimits(argv);
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
      return exploreCommand(rest, print, (s) => {
        if (process.stderr.isTTY) process.stderr.write(s);
      });
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

const out = (s: string) => process.stdout.write(s);
const command = process.argv[2];
try {
  process.exitCode = await main(process.argv.slice(2), out);
} catch (e) {
  if (e instanceof RseqEmuError) {
    const help = e.code === 'USAGE' && command !== undefined && COMMAND_USAGE[command] ? ` (see 'rseq-emu ${command} --help')` : '';
    process.stderr.write(`rseq-emu: ${oneLine(e.oneLine())}${help}\n`);
  } else {
    process.stderr.write(`rseq-emu: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
    if (process.env.RSEQ_EMU_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ""}\n`);
  }
  process.exitCode = 2;
}

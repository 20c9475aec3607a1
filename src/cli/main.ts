// The `rseq-emu` command. Every error the user can cause ends as one line on stderr and exit 2.
import { readRseqTables } from '../abi/tables.js';
import { RseqEmuError, usageError } from '../errors.js';
import { loadProgram } from '../program.js';
import { disassemblyListing } from '../report/listing.js';
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
  ${STEP_USAGE}
  ${GDBSERVER_USAGE}
Events: preempt@WHERE, migrate:N@WHERE, signal[:SIG]@WHERE; WHERE is LABEL[+OFFSET], 0xADDRESS or #K.
Exit status: 0 the entry returned, 1 the program was killed, faulted or ran out of budget, 2 bad input or usage.
check: 0 no finding is an error, 1 at least one is, 2 bad input or usage.
explore: 0 no violation found, 1 a violation found, 2 bad input or usage.
step: 0 completed, 1 livelock, killed or out of steps, 2 bad input or usage.
gdbserver: 0 after the connection ends, 2 bad input or usage.`;

async function main(argv: string[], print: (s: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest, print);
    case 'check':
      return checkCommand(rest, print);
    case 'explore':
      return exploreCommand(rest, print, (s) => {
        if (process.stderr.isTTY) process.stderr.write(s);
      });
    case 'step':
      return stepCommand(rest, print);
    case 'gdbserver':
      return gdbserverCommand(rest, (s) => process.stderr.write(s));
    case 'disasm': {
      if (rest.length !== 1 || rest[0]!.startsWith('--')) throw usageError('usage: rseq-emu disasm FILE');
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
      throw usageError(`unknown command '${command}'\n${USAGE}`);
  }
}

const out = (s: string) => process.stdout.write(s);
try {
  process.exitCode = await main(process.argv.slice(2), out);
} catch (e) {
  if (e instanceof RseqEmuError) {
    process.stderr.write(`rseq-emu: ${e.oneLine()}\n`);
  } else {
    process.stderr.write(`rseq-emu: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  process.exitCode = 2;
}

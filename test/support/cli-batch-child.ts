// Runs rseq-emu commands given as JSON on stdin (an array of argv arrays) in one process and prints
// their exit codes and output as JSON: many commands for the cost of one start-up.
import { runCli } from '../../src/cli/main.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const argv of JSON.parse(input) as string[][]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), progress: () => {} });
  results.push({ code, out, err });
}
process.stdout.write(JSON.stringify(results));

// The library doing what `rseq-emu run ... --event preempt@.Lcounter_add_start --trace` does:
// assemble, map a counter array, preempt at the section start, print the trace.
//   npx tsx examples/preempt-counter.ts
import { Machine, findSymbol, loadProgram, parseEvent, readRseqTables, runText } from '../src/index.js';

const image = await loadProgram(new URL('../asm/counter_add.s', import.meta.url).pathname);
const machine = Machine.create(image, { cpus: 2 });
try {
  const counters = machine.allocate('counters', 16);
  const outcome = machine.call(findSymbol(image, 'counter_add')!.address, [counters, 5n], {
    events: [parseEvent('preempt@.Lcounter_add_start', image, machine.cpus)],
    trace: true,
  });
  process.stdout.write(runText(image, readRseqTables(image), outcome, [{ name: 'counters', address: counters, bytes: machine.emu.read(counters, 16) }]));
} finally {
  machine.close();
}

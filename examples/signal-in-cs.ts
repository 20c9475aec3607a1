// A signal handler interrupting a critical section: the handler runs with rseq_cs cleared and
// rt_sigreturn lands on the abort handler, which retries the update.
//   npx tsx examples/signal-in-cs.ts
import { Machine, findSymbol, hex, loadProgram, parseEvent, symbolize } from '../src/index.js';

const image = await loadProgram(new URL('./programs/signal-in-cs.s', import.meta.url).pathname);
const machine = Machine.create(image, { cpus: 2 });
try {
  const counters = machine.allocate('counters', 16);
  const log = machine.allocate('log', 24);
  const where = 'signal:SIGUSR1@.Lstart+11'; // before the load of counters[cpu]
  const out = machine.call(findSymbol(image, 'main')!.address, [counters, log], { events: [parseEvent(where, image, machine.cpus)] });
  const [rseqCs, savedRip, signo] = [0n, 8n, 16n].map((off) => machine.emu.readU64(log + off));
  const e = out.events[0]!;
  console.log(`${where}: the kernel's fix-up before the frame: ${e.outcome}`);
  console.log(`  handler ran for signal ${signo} with rseq_cs = ${hex(rseqCs!)}`);
  console.log(`  RIP saved in its frame: ${hex(savedRip!)} <${symbolize(image, savedRip!)}>`);
  console.log(`  after rt_sigreturn and the retry: ${out.status}, counters[0] = ${machine.emu.readU64(counters)}`);
} finally {
  machine.close();
}

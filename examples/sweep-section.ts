// A preemption before every instruction of every critical section of an op, one run each, with
// the kernel's decision and the final counter: aborts inside, a lazy clear at post-commit.
//   npx tsx examples/sweep-section.ts [asm/FILE.s] [ENTRY]
import { Machine, findSymbol, hex, loadProgram, parseEvent, readRseqTables, symbolize } from '../src/index.js';

const file = process.argv[2] ?? new URL('../asm/counter_add.s', import.meta.url).pathname;
const entry = process.argv[3] ?? 'counter_add';
const image = await loadProgram(file);
const start = findSymbol(image, entry);
if (!start) throw new Error(`no symbol ${entry} in ${file}`);

for (const cs of readRseqTables(image).sections) {
  const points = image.lines.filter((l) => l.kind === 'instruction' && l.address >= cs.startIp && l.address <= cs.postCommitIp);
  for (const line of points) {
    const machine = Machine.create(image);
    try {
      const counters = machine.allocate('counters', 16);
      const out = machine.call(start.address, [counters, 1n], { events: [parseEvent(`preempt@${hex(line.address)}`, image, machine.cpus)] });
      const counter = new DataView(machine.emu.read(counters, 8).buffer).getBigUint64(0, true);
      const decision = out.events[0]?.outcome ?? 'not reached';
      console.log(`${hex(line.address)} <${symbolize(image, line.address)}>`.padEnd(44), decision.padEnd(12), `counter=${counter}`, `(${line.text})`);
    } finally {
      machine.close();
    }
  }
}

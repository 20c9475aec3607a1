// A registration walk-through: every error case of rseq(), as the kernel selftest
// syscall_errors_test does, with the result of each on the modelled kernel.
//   npx tsx examples/rseq-errors.ts [PROFILE]
import { Machine, findSymbol, loadProgram, parseProfile } from '../src/index.js';
import { describeReturn } from '../src/kernel/errno.js';

const CASES = [
  'flags = -1', 'area not 32-aligned', 'length 31', 'area at (void *)-4096', 'register',
  'register again', 'unregister with signature + 1', 'unregister', 'unregister again',
];
const profile = process.argv[2] ?? 'linux';
const image = await loadProgram(new URL('./programs/rseq-errors.s', import.meta.url).pathname);
const machine = Machine.create(image, { cpus: 2, registration: 'none', profile: parseProfile(profile) });
try {
  const results = machine.allocate('results', 80);
  const area = machine.allocate('area', 64);
  machine.spawn({ entry: findSymbol(image, 'walk')!.address, args: [results, area], cpu: 1 });
  machine.run();
  console.log(`rseq() error walk on --profile ${profile}:`);
  CASES.forEach((c, i) => console.log(`  ${String(i + 1).padStart(2)}. ${c.padEnd(32)} → ${describeReturn(machine.emu.readU64(results + BigInt(8 * i)))}`));
  console.log(`  cpu_id after registering on CPU 1: ${BigInt.asIntN(64, machine.emu.readU64(results + 72n))}`);
} finally {
  machine.close();
}

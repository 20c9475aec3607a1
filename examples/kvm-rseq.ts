// The KVM selftest pattern: count the read windows in which rseq's cpu_id matched getcpu() and
// those in which it was stale, under the fixed kernel and under bug-kvm-run.
//   npx tsx examples/kvm-rseq.ts
import { Machine, findSymbol, loadProgram, parseProfile } from '../src/index.js';

const image = await loadProgram(new URL('./programs/kvm-rseq.s', import.meta.url).pathname);
const at = (name: string) => findSymbol(image, name)!.address;
for (const profile of ['linux', 'linux,bug-kvm-run']) {
  const machine = Machine.create(image, { cpus: 2, profile: parseProfile(profile) });
  try {
    const state = machine.allocate('state', 32);
    machine.spawn({ entry: at('reader'), args: [state, 40n], cpu: 0 });
    machine.spawn({ entry: at('migrator'), args: [state, 30n, 2n], cpu: 1 });
    const out = machine.run();
    const [, ok, failed] = [0n, 8n, 16n].map((off) => machine.emu.readU64(state + off));
    console.log(`--profile ${profile}: ${out.status}; read windows with a matching cpu_id: ${ok}, with a stale cpu_id: ${failed}`);
  } finally {
    machine.close();
  }
}

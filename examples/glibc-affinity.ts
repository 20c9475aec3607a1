// glibc's affinity test from the 2020 report, under the fixed kernel and under the new-task bug.
//   npx tsx examples/glibc-affinity.ts
import { Machine, findSymbol, loadProgram, parseProfile } from '../src/index.js';

const image = await loadProgram(new URL('./programs/glibc-affinity.s', import.meta.url).pathname);
for (const profile of ['linux', 'bug-new-task-cpu-id']) {
  const machine = Machine.create(image, { cpus: 2, profile: parseProfile(profile) });
  try {
    machine.spawn({ entry: findSymbol(image, 'main')!.address, args: [2n] });
    const out = machine.run();
    console.log(`--profile ${profile}`);
    for (const w of out.output) console.log(`  T${w.tid} fd${w.fd}: ${w.text.trimEnd()}`);
    console.log(`  child exit status ${out.threads[0]!.returns[0]} → ${out.threads[0]!.returns[0] === 0n ? 'PASS' : 'FAIL'}`);
  } finally {
    machine.close();
  }
}

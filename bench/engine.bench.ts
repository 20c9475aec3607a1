// Instructions per second of the engine in its three typical modes. Run directly with
// `npx tsx bench/engine.bench.ts`, or call benchEngine() from a bench driver.
import { pathToFileURL } from 'node:url';
import { Emulator, Prot } from '../src/engine/index.js';

const CODE = 0x10000n;
/** loop: dec rcx; jnz loop; hlt — two instructions per iteration, then hlt ends the run. */
const LOOP = Uint8Array.from([0x48, 0xff, 0xc9, 0x75, 0xfb, 0xf4]);
const LOOP_END = CODE + 5n;
const LOOP_ITERATIONS = 1_500_000; // 3 million instructions
const SINGLE_STEPS = 100_000;

/** Runs `body` on a fresh emulator holding the loop, after one short warm-up run that translates it. */
function withLoop(setUp: (emu: Emulator) => void, body: (emu: Emulator) => void): void {
  const emu = Emulator.create();
  try {
    emu.map(CODE, 0x1000, Prot.RWX);
    emu.write(CODE, LOOP);
    setUp(emu);
    emu.setReg('rcx', 100n);
    emu.run(CODE);
    body(emu);
  } finally {
    emu.close();
  }
}

/** Instructions per second of `run`, which executes `instructions` instructions. */
function measure(instructions: number, run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return instructions / seconds;
}

export async function benchEngine(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  const loopInstructions = 2 * LOOP_ITERATIONS + 1;

  withLoop(() => {}, (emu) => {
    emu.setReg('rcx', BigInt(LOOP_ITERATIONS));
    results['loop, no hooks (insn/s)'] = measure(loopInstructions, () => emu.run(CODE));
  });

  let calls = 0;
  withLoop((emu) => emu.onCode(CODE, LOOP_END, () => calls++), (emu) => {
    emu.setReg('rcx', BigInt(LOOP_ITERATIONS));
    calls = 0;
    results['loop, one JS code hook (insn/s)'] = measure(loopInstructions, () => emu.run(CODE));
    if (calls !== 2 * LOOP_ITERATIONS) throw new Error(`code hook ran ${calls} times, expected ${2 * LOOP_ITERATIONS}`);
  });

  withLoop(() => {}, (emu) => {
    emu.setReg('rcx', BigInt(SINGLE_STEPS));
    emu.setReg('rip', CODE);
    results['single-step, run(count: 1) per instruction (insn/s)'] = measure(SINGLE_STEPS, () => {
      for (let i = 0; i < SINGLE_STEPS; i++) emu.run(emu.reg('rip'), { count: 1 });
    });
    const left = emu.reg('rcx');
    if (left !== BigInt(SINGLE_STEPS / 2)) throw new Error(`single-stepping left rcx = ${left}, expected ${SINGLE_STEPS / 2}`);
  });

  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [name, value] of Object.entries(await benchEngine())) {
    console.log(`${name}: ${Math.round(value).toLocaleString('en-US')}`);
  }
}

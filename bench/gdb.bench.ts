// gdb `continue` through a 10^7-instruction loop with one breakpoint after it, through the whole
// stub (packets framed over a stream, the session adapter), against `run` of the same loop: the
// stub must add no per-instruction work or packet traffic.
import { PassThrough } from 'node:stream';
import { DebugSession } from '../src/debug/session.js';
import { encodePacket } from '../src/gdb/packets.js';
import { GdbProtocol } from '../src/gdb/protocol.js';
import { serveConnection } from '../src/gdb/server.js';
import { SessionTarget } from '../src/gdb/session-target.js';
import { Machine, assembleSource, findSymbol, type Image } from '../src/index.js';

const now = () => Number(process.hrtime.bigint()) / 1e9;
const LOOP = 10_000_000;

/** `run` of the loop: seconds and instructions. */
function runOnce(image: Image): { seconds: number; instructions: number } {
  const m = Machine.create(image, { maxInstructions: 2 * LOOP });
  const t0 = now();
  const r = m.call(findSymbol(image, 'f')!.address, []);
  const seconds = now() - t0;
  m.close();
  return { seconds, instructions: r.instructions };
}

/** gdb's `Z0` after the loop and `vCont;c`, through the stub: seconds and what went on the wire. */
async function continueOnce(image: Image): Promise<{ seconds: number; packets: number; bytes: number }> {
  const session = DebugSession.create(image, { entry: 'f', args: [] }, { maxInstructions: 2 * LOOP });
  const inp = new PassThrough();
  const wire = new PassThrough();
  let bytes = 0;
  let packets = 0;
  const stopped = new Promise<void>((resolve) =>
    wire.on('data', (c: Buffer) => {
      bytes += c.length;
      packets += (c.toString('latin1').match(/\$/g) ?? []).length;
      if (c.toString('latin1').includes('$T05')) resolve();
    }),
  );
  const done = serveConnection(new GdbProtocol(new SessionTarget(session)), inp, wire);
  const after = findSymbol(image, 'done')!.address.toString(16);
  const t0 = now();
  inp.write(encodePacket(`Z0,${after},1`) + encodePacket('vCont;c'));
  await stopped;
  const seconds = now() - t0;
  inp.end();
  await done;
  session.close();
  return { seconds, packets, bytes };
}

export async function benchGdb(): Promise<Record<string, number>> {
  const image = await assembleSource(`f: movq $${LOOP / 2}, %rcx\n1: decq %rcx\n jnz 1b\ndone: ret\n`, 'loop.s');
  // Interleaved, best of two each: the machine is shared, so a single pair can be skewed by load.
  const runs = [runOnce(image)];
  const conts = [await continueOnce(image)];
  runs.push(runOnce(image));
  conts.push(await continueOnce(image));
  const run = Math.min(...runs.map((r) => r.seconds));
  const cont = Math.min(...conts.map((c) => c.seconds));
  return {
    'run of a 10^7-instruction loop (s)': run,
    'gdb continue through it to a breakpoint after it (s)': cont,
    'continue / run time (x100)': (100 * cont) / run,
    'packets the stub sent for that continue': conts[0]!.packets,
    'bytes the stub sent for that continue': conts[0]!.bytes,
    'instructions of the loop run': runs[0]!.instructions,
  };
}

// gdb `continue` through a 10^7-instruction loop with one breakpoint after it, through the whole
// stub (packets framed over a stream, the session adapter), against `run` of the same loop: the
// stub must add no per-instruction work or packet traffic.
import { PassThrough } from 'node:stream';
import { DebugSession } from '../src/debug/session.js';
import { encodePacket } from '../src/gdb/packets.js';
import { GdbProtocol } from '../src/gdb/protocol.js';
import { serveConnection } from '../src/gdb/server.js';
import { SessionTarget } from '../src/gdb/session-target.js';
import { Machine, assembleSource, findSymbol } from '../src/index.js';

const now = () => Number(process.hrtime.bigint()) / 1e9;
const LOOP = 10_000_000;

export async function benchGdb(): Promise<Record<string, number>> {
  const image = await assembleSource(`f: movq $${LOOP / 2}, %rcx\n1: decq %rcx\n jnz 1b\ndone: ret\n`, 'loop.s');
  const out: Record<string, number> = {};

  const m = Machine.create(image, { maxInstructions: 2 * LOOP });
  const t0 = now();
  const r = m.call(findSymbol(image, 'f')!.address, []);
  const runSeconds = now() - t0;
  m.close();

  const session = DebugSession.create(image, { entry: 'f', args: [] }, { maxInstructions: 2 * LOOP });
  const inp = new PassThrough();
  const wire = new PassThrough();
  let received = 0;
  let packets = 0;
  const stopped = new Promise<void>((resolve) =>
    wire.on('data', (c: Buffer) => {
      received += c.length;
      packets += (c.toString('latin1').match(/\$/g) ?? []).length;
      if (c.toString('latin1').includes('$T05')) resolve();
    }),
  );
  const done = serveConnection(new GdbProtocol(new SessionTarget(session)), inp, wire);
  const done_ = findSymbol(image, 'done')!.address.toString(16);
  const t1 = now();
  inp.write(encodePacket(`Z0,${done_},1`) + encodePacket('vCont;c'));
  await stopped;
  const continueSeconds = now() - t1;
  inp.end();
  await done;
  session.close();

  out['run of a 10^7-instruction loop (s)'] = runSeconds;
  out['gdb continue through it to a breakpoint after it (s)'] = continueSeconds;
  out['continue / run time (x100)'] = (100 * continueSeconds) / runSeconds;
  out['packets the stub sent for that continue'] = packets;
  out['bytes the stub sent for that continue'] = received;
  out['instructions run (run)'] = r.instructions;
  return out;
}

// Serves one gdb connection over any byte stream (a TCP socket, or stdin/stdout for
// `target remote | rseq-emu gdbserver --stdio`): acknowledges each packet, asks for a resend of a
// bad one (`-`), resends the last reply when gdb asks (`-`), and ends cleanly at end of input.
import { createServer, type Server, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { RseqEmuError } from '../errors.js';
import { PacketDecoder, encodePacket } from './packets.js';
import type { GdbProtocol } from './protocol.js';

export interface ConnectionLog {
  /** Each packet received and the reply, when tracing. */
  packet?(received: string, reply: string | null): void;
}

/**
 * Runs the protocol on `input`/`output` until gdb detaches or kills, or the input ends (also in
 * the middle of a packet). Resolves when the connection is over; never rejects on client input.
 */
export function serveConnection(protocol: GdbProtocol, input: Readable, output: Writable, log: ConnectionLog = {}): Promise<void> {
  return new Promise((resolve) => {
    const decoder = new PacketDecoder();
    let lastSent: string | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      input.off('data', onData);
      input.off('end', finish);
      input.off('close', finish);
      input.off('error', finish);
      output.off('error', finish);
      resolve();
    };
    const send = (text: string) => {
      if (!done && output.writable) output.write(text, 'latin1');
    };
    const onData = (chunk: Buffer | string) => {
      if (done) return;
      // gdb resends a packet it saw no `+` for within its timeout (2 s; our start-up can take
      // longer). Copies that arrived together, before our ack could reach it, are those resends:
      // gdb never sends a new packet before the reply to the last one.
      let previous: string | null = null;
      for (const unit of decoder.push(typeof chunk === 'string' ? chunk : chunk.toString('latin1'))) {
        if (unit.kind === 'packet' && unit.data === previous) continue;
        if (unit.kind === 'packet') previous = unit.data;
        if (unit.kind === 'bad-checksum') send('-');
        else if (unit.kind === 'nak') {
          if (lastSent !== null) send(lastSent);
        } else if (unit.kind === 'packet') {
          send('+');
          const { reply, close } = protocol.handle(unit.data);
          log.packet?.(unit.data, reply);
          if (reply !== null) send((lastSent = encodePacket(reply)));
          if (close) {
            finish();
            return;
          }
        }
        // `+` needs nothing; an interrupt finds everything already stopped (each command runs to its stop).
      }
    };
    input.on('data', onData);
    input.once('end', finish);
    input.once('close', finish);
    input.once('error', finish);
    output.once('error', finish);
  });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

/** Parses `--listen [HOST:]PORT`: the host must be the loopback address; port 0 picks a free one. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:([^:]+):)?(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new RseqEmuError('USAGE', `--listen takes [HOST:]PORT, not '${text}'`);
  const host = m[1] ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new RseqEmuError('USAGE', `--listen: the stub listens on 127.0.0.1 only (it gives full control of the emulated machine), not on '${host}'`);
  return { host: '127.0.0.1', port: Number(m[2]) };
}

/**
 * Listens on 127.0.0.1:port and serves the first connection; later ones are refused while it lasts.
 * `ready` gets the bound port (for port 0). Resolves when that connection has ended.
 */
export function serveTcp(protocol: GdbProtocol, port: number, ready: (port: number) => void, log: ConnectionLog = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    let busy = false;
    const server: Server = createServer((socket: Socket) => {
      if (busy) {
        socket.destroy();
        return;
      }
      busy = true;
      socket.setNoDelay(true);
      serveConnection(protocol, socket, socket, log).then(() => {
        socket.end();
        server.close();
        resolve();
      });
    });
    server.once('error', (e) => reject(new RseqEmuError('USAGE', `cannot listen on 127.0.0.1:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      ready(typeof address === 'object' && address ? address.port : port);
    });
  });
}

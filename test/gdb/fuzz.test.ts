// Protocol fuzzing (go test -fuzz style): a seed corpus of real gdb packets (fuzz-corpus.txt),
// mutated, cut short, mixed with random bytes and dropped mid-packet. Every run must end — the
// server answers or closes cleanly — with only acks and well-formed packets on the wire.
// FUZZ_RUNS=N runs longer.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DebugSession } from '../../src/debug/session.js';
import { checksum, encodePacket } from '../../src/gdb/packets.js';
import { GdbProtocol } from '../../src/gdb/protocol.js';
import { serveConnection } from '../../src/gdb/server.js';
import { SessionTarget } from '../../src/gdb/session-target.js';
import type { GdbTarget } from '../../src/gdb/target.js';
import { Rng } from '../../src/explore/rng.js';
import { FakeTarget } from '../support/fake-gdb-target.js';
import { bundled } from '../support/program.js';

const CORPUS = readFileSync(fileURLToPath(new URL('./fuzz-corpus.txt', import.meta.url)), 'utf8').split('\n').filter((l) => l !== '');
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = 0x5eed;

function mutate(rng: Rng, packet: string): string {
  const chars = [...packet];
  const edits = 1 + rng.below(4);
  for (let i = 0; i < edits; i++) {
    const at = rng.below(chars.length + 1);
    const pick = rng.below(5);
    const special = '$#}*:;,=-\x03\x00\xff'[rng.below(12)]!;
    if (pick === 0) chars.splice(at, 1);
    else if (pick === 1) chars.splice(at, 0, special);
    else if (pick === 2) chars.splice(at, 0, String.fromCharCode(rng.below(256)));
    else if (pick === 3) chars.splice(at, chars.length);
    else chars.splice(at, 0, ...'ffffffffffffffff'.slice(0, 1 + rng.below(16)));
  }
  return chars.join('');
}

/** One fuzz input: a stream of framed (sometimes badly) packets, raw bytes, acks and interrupts. */
function generate(rng: Rng): string {
  let out = '';
  const parts = 1 + rng.below(12);
  for (let i = 0; i < parts; i++) {
    const kind = rng.below(10);
    const base = CORPUS[rng.below(CORPUS.length)]!;
    if (kind < 4) out += encodePacket(mutate(rng, base));
    else if (kind < 6) out += encodePacket(base);
    else if (kind === 6) out += `$${mutate(rng, base)}#${rng.below(256).toString(16).padStart(2, '0')}`;
    else if (kind === 7) out += ['+', '-', '\x03'][rng.below(3)]!;
    else if (kind === 8) out += String.fromCharCode(...Array.from({ length: rng.below(40) }, () => rng.below(256)));
    else out += encodePacket(base).slice(0, rng.below(base.length + 4)); // cut short: the next part runs into it
  }
  return out;
}

/** The wire must be acks, naks and packets whose checksums are right. */
function wellFormed(wire: string): boolean {
  let rest = wire;
  while (rest.length) {
    if (rest[0] === '+' || rest[0] === '-') {
      rest = rest.slice(1);
      continue;
    }
    const m = /^\$([^#$]*)#([0-9a-f]{2})/.exec(rest);
    if (!m || parseInt(m[2]!, 16) !== checksum(m[1]!)) return false;
    rest = rest.slice(m[0].length);
  }
  return true;
}

async function feed(target: GdbTarget, input: string, cut: boolean): Promise<string> {
  const inp = new PassThrough();
  const out = new PassThrough();
  let wire = '';
  out.on('data', (c: Buffer) => (wire += c.toString('latin1')));
  const done = serveConnection(new GdbProtocol(target), inp, out);
  // Several writes, so packets also straddle chunk boundaries; `cut` drops the connection mid-stream.
  const pieces = input.match(/[\s\S]{1,17}/g) ?? [];
  const upto = cut ? Math.floor(pieces.length / 2) : pieces.length;
  for (const piece of pieces.slice(0, upto)) inp.write(piece, 'latin1');
  if (cut) inp.destroy();
  else inp.end();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no end after 5 s for ${JSON.stringify(input)}`)), 5000)));
  try {
    await Promise.race([done, hung]);
  } finally {
    clearTimeout(timer);
  }
  return wire;
}

describe('gdb protocol fuzzing', function () {
  this.timeout(120_000);

  it(`ends cleanly with well-formed output on ${RUNS} generated inputs against a fake target (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < RUNS; i++) {
      const input = generate(rng);
      const wire = await feed(new FakeTarget(), input, false);
      assert.ok(wellFormed(wire), `run ${i}: malformed output ${JSON.stringify(wire)} for ${JSON.stringify(input)}`);
    }
  });

  it('ends cleanly when the client disconnects in the middle of a packet', async () => {
    const rng = new Rng(SEED + 1);
    for (let i = 0; i < 100; i++) {
      const wire = await feed(new FakeTarget(), encodePacket(CORPUS[i % CORPUS.length]!) + generate(rng), true);
      assert.ok(wellFormed(wire));
    }
  });

  it('ends cleanly on generated inputs against the real emulated machine (asm/counter_add.s)', async () => {
    const image = await bundled('counter_add.s');
    const rng = new Rng(SEED + 2);
    const runs = Math.max(20, Math.floor(RUNS / 10));
    for (let i = 0; i < runs; i++) {
      const session = DebugSession.create(image, { entry: 'counter_add', args: ['counters', '5'], memory: [{ name: 'counters', size: 16, init: [] }] }, { maxInstructions: 10_000 });
      try {
        const input = generate(rng);
        const wire = await feed(new SessionTarget(session), input, i % 3 === 0);
        assert.ok(wellFormed(wire), `run ${i}: malformed output for ${JSON.stringify(input)}`);
      } finally {
        session.close();
      }
    }
  });
});

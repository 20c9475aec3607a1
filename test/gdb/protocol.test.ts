// The remote protocol against a fake target: framing, every packet family the stub answers, and
// the empty or error reply for what it does not know or cannot parse.
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { AMD64_REGISTERS, registerNumber, targetXml } from '../../src/gdb/amd64-registers.js';
import { PacketDecoder, checksum, encodePacket, unescapeBinary } from '../../src/gdb/packets.js';
import { GdbProtocol } from '../../src/gdb/protocol.js';
import { parseListen, serveConnection, serveTcp } from '../../src/gdb/server.js';
import { connect } from 'node:net';
import { FakeTarget } from '../support/fake-gdb-target.js';

const ask = (p: GdbProtocol, packet: string) => p.handle(packet).reply;
const hex = (s: string) => Buffer.from(s).toString('hex');

describe('gdb remote protocol', () => {
  describe('framing', () => {
    it('checksums a packet body modulo 256, as the gdb manual shows for $qC#b4', () => assert.equal(checksum('qC'), 0xb4));
    it("escapes '$', '#', '}' and '*' in a reply and the binary unescape restores them", () => {
      const wire = encodePacket('a$b#c}d*e');
      assert.equal(wire, `$a}\x04b}\x03c}]d}\x0ae#${checksum('a}\x04b}\x03c}]d}\x0ae').toString(16).padStart(2, '0')}`);
      assert.equal(unescapeBinary(wire.slice(1, -3)), 'a$b#c}d*e');
    });
    it('splits a stream into acks, naks, interrupts and packets, across chunk boundaries', () => {
      const d = new PacketDecoder();
      assert.deepEqual(d.push('+$q'), [{ kind: 'ack' }]);
      assert.deepEqual(d.push('C#b4-\x03'), [{ kind: 'packet', data: 'qC' }, { kind: 'nak' }, { kind: 'interrupt' }]);
    });
    it('reports a packet with a wrong or non-hex checksum as bad', () => {
      assert.deepEqual(new PacketDecoder().push('$qC#00$qC#zz'), [{ kind: 'bad-checksum' }, { kind: 'bad-checksum' }]);
    });
    it('drops an unterminated packet longer than the advertised size instead of buffering it forever', () => {
      const d = new PacketDecoder();
      const out = d.push('$' + 'a'.repeat(0x5000));
      assert.ok(out.some((u) => u.kind === 'bad-checksum'));
    });
  });

  describe('connection', () => {
    async function converse(input: string, target = new FakeTarget()): Promise<string> {
      const inp = new PassThrough();
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString('latin1')));
      const done = serveConnection(new GdbProtocol(target), inp, out);
      inp.end(input, 'latin1');
      await done;
      return text;
    }
    it('acks a good packet and sends its reply', async () => assert.equal(await converse(encodePacket('qC')), `+${encodePacket('QC1')}`));
    it("answers a bad checksum with '-' and a retransmitted good one normally", async () => {
      assert.equal(await converse('$qC#00' + encodePacket('qC')), `-+${encodePacket('QC1')}`);
    });
    it("resends the last reply when gdb sends '-'", async () => assert.equal(await converse(encodePacket('qC') + '-'), `+${encodePacket('QC1')}${encodePacket('QC1')}`));
    it('answers copies of one packet that arrived together (gdb resending during a slow start) once', async () => {
      assert.equal(await converse(encodePacket('qC').repeat(3)), `+${encodePacket('QC1')}`);
    });
    it('ends after k without a reply, and after D or vKill with OK', async () => {
      assert.equal(await converse(encodePacket('k') + encodePacket('qC')), '+');
      assert.equal(await converse(encodePacket('D') + encodePacket('qC')), `+${encodePacket('OK')}`);
      assert.equal(await converse(encodePacket('vKill;1') + encodePacket('qC')), `+${encodePacket('OK')}`);
    });
  });

  describe('packets', () => {
    let target: FakeTarget;
    let p: GdbProtocol;
    beforeEach(() => {
      target = new FakeTarget();
      p = new GdbProtocol(target);
    });

    it('advertises the packet size, the XML transfers, vCont and swbreak in qSupported', () => {
      const r = ask(p, 'qSupported:multiprocess+;swbreak+')!;
      for (const f of ['PacketSize=4000', 'qXfer:features:read+', 'qXfer:threads:read+', 'vContSupported+', 'swbreak+']) assert.ok(r.split(';').includes(f), f);
    });
    it('serves the target description in windows, m while more follows and l for the last', () => {
      const xml = targetXml();
      const first = ask(p, 'qXfer:features:read:target.xml:0,100')!;
      assert.equal(first, 'm' + xml.slice(0, 0x100));
      const rest = ask(p, `qXfer:features:read:target.xml:${(0x100).toString(16)},4000`)!;
      assert.equal(rest, 'l' + xml.slice(0x100));
      assert.equal(ask(p, 'qXfer:features:read:other.xml:0,100'), 'E00');
    });
    it('numbers registers as gdb amd64 does: rip 16, eflags 17, xmm0 40, mxcsr 56, then orig_rax, fs_base, gs_base', () => {
      assert.deepEqual(['rip', 'eflags', 'st0', 'xmm0', 'mxcsr', 'orig_rax', 'fs_base', 'gs_base'].map(registerNumber), [16, 17, 24, 40, 56, 57, 58, 59]);
      assert.match(targetXml(), /<feature name="org.gnu.gdb.i386.core">.*<feature name="org.gnu.gdb.i386.sse">.*<feature name="org.gnu.gdb.i386.segments">/);
    });
    it('reports the stop with the thread and core', () => assert.equal(ask(p, '?'), 'T05thread:1;core:0;'));
    it('lists threads with qfThreadInfo/qsThreadInfo, the XML list, and answers qC and T', () => {
      assert.equal(ask(p, 'qfThreadInfo'), 'm1,2');
      assert.equal(ask(p, 'qsThreadInfo'), 'l');
      assert.match(ask(p, 'qXfer:threads:read::0,1000')!, /^l<\?xml.*<thread id="1" core="0" name="T1"\/><thread id="2" core="1" name="T2"\/>/);
      assert.equal(ask(p, 'qC'), 'QC1');
      assert.equal(ask(p, 'T2'), 'OK');
      assert.equal(ask(p, 'T9'), 'E01');
    });
    it('reads all registers in gdb order, little-endian, with x for what the target lacks', () => {
      const g = ask(p, 'g')!;
      assert.equal(g.length, AMD64_REGISTERS.reduce((n, r) => n + r.bits / 4, 0));
      assert.equal(g.slice(0, 16), '8877665544332211');
      assert.equal(g.slice(16, 32), 'xxxxxxxxxxxxxxxx');
    });
    it('reads and writes one register with p and P, on the thread Hg selects', () => {
      assert.equal(ask(p, 'p10'), '0010000000000000');
      assert.equal(ask(p, 'Hg2'), 'OK');
      assert.equal(ask(p, 'p10'), '8010000000000000');
      assert.equal(ask(p, 'P0=0100000000000000'), 'OK');
      assert.equal(target.regs.get(2)!.get('rax'), 1n);
      assert.equal(ask(p, 'P0=01'), 'E01');
      assert.equal(ask(p, 'Hg7'), 'E01');
    });
    it('writes the registers of a G packet that the target has, leaving x fields alone', () => {
      const g = ask(p, 'g')!;
      const changed = 'efcdab8967452301' + g.slice(16);
      assert.equal(ask(p, 'G' + changed), 'OK');
      assert.equal(target.regs.get(1)!.get('rax'), 0x0123456789abcdefn);
      assert.equal(ask(p, 'G' + changed.slice(2)), 'E01');
    });
    it('reads memory with m, writes it with M and with binary X, and errors on unmapped bytes', () => {
      assert.equal(ask(p, 'm1004,4'), '04050607');
      assert.equal(ask(p, 'M1004,2:aabb'), 'OK');
      assert.equal(ask(p, 'X1006,2:}\x03#'.replace('#', '}\x03')), 'OK');
      assert.equal(ask(p, 'm1004,4'), 'aabb2323');
      assert.equal(ask(p, 'm2000,4'), 'E01');
      assert.equal(ask(p, 'M1004,2:aa'), 'E01');
    });
    it('inserts and removes software and hardware breakpoints, and declines watchpoints', () => {
      assert.equal(ask(p, 'Z0,1010,1'), 'OK');
      assert.equal(ask(p, 'Z1,1020,1'), 'OK');
      assert.deepEqual([...target.breakpoints], [0x1010n, 0x1020n]);
      assert.equal(ask(p, 'z0,1010,1'), 'OK');
      assert.deepEqual([...target.breakpoints], [0x1020n]);
      assert.equal(ask(p, 'Z2,1010,4'), '');
    });
    it('continues to a breakpoint and reports it as swbreak', () => {
      ask(p, 'Z0,1010,1');
      assert.equal(ask(p, 'c'), 'T05thread:1;core:0;swbreak:;');
      assert.equal(target.regs.get(1)!.get('rip'), 0x1010n);
    });
    it('steps the thread vCont names and only it', () => {
      assert.equal(ask(p, 'vCont?'), 'vCont;c;C;s;S;r');
      assert.equal(ask(p, 'vCont;s:2;c'), 'T05thread:2;core:1;');
      assert.deepEqual(target.steps, [2]);
      assert.equal(target.resumes, 0);
    });
    it('range-steps one instruction at a time until the IP leaves the range', () => {
      assert.equal(ask(p, 'vCont;r1000,1005:1;c'), 'T05thread:1;core:0;');
      assert.deepEqual(target.steps, [1, 1, 1, 1, 1]);
      assert.equal(target.regs.get(1)!.get('rip'), 0x1005n);
    });
    it('stops a range step at a breakpoint inside the range', () => {
      ask(p, 'Z0,1003,1');
      assert.equal(ask(p, 'vCont;r1000,1008:1'), 'T05thread:1;core:0;swbreak:;');
      assert.equal(target.regs.get(1)!.get('rip'), 0x1003n);
    });
    it('replies W with the exit code when the program ends, and errors on resuming after it', () => {
      assert.equal(ask(p, 'c'), 'W03');
      assert.equal(ask(p, 's'), 'E01');
      assert.equal(ask(p, 'qfThreadInfo'), 'l');
      assert.equal(ask(p, 'g'), 'E01');
    });
    it('passes monitor commands to the target with the selected thread and hex-encodes their output', () => {
      ask(p, 'Hg2');
      assert.equal(ask(p, 'qRcmd,' + hex('rseq')), hex('ran rseq\n'));
      assert.deepEqual(target.monitorCalls, [['rseq', 2]]);
      assert.equal(ask(p, 'qRcmd,' + hex('quiet')), 'OK');
      assert.equal(ask(p, 'qRcmd,' + hex('fail')), hex('error: no such thing\n'));
      assert.equal(ask(p, 'qRcmd,zz'), 'E01');
    });
    it('answers qAttached, and gives the empty reply to packets it does not know', () => {
      assert.equal(ask(p, 'qAttached'), '0');
      for (const unknown of ['vMustReplyEmpty', 'qTStatus', 'QStartNoAckMode', '!', 'vFile:open:', 'bc']) assert.equal(ask(p, unknown), '', unknown);
    });
    it('answers malformed packets with an error', () => {
      for (const bad of ['mzz,4', 'm1000', 'Mx', 'Z0,', 'pzz', 'Hx1', 'vCont;q', 'gg']) assert.equal(ask(p, bad), 'E01', bad);
    });
  });

  describe('TCP', () => {
    it('serves one connection on 127.0.0.1 and closes a second one while the first lasts', async () => {
      let port = 0;
      let served: Promise<void> = Promise.resolve();
      const listening = new Promise<void>((resolve) => {
        served = serveTcp(new GdbProtocol(new FakeTarget()), 0, (p) => {
          port = p;
          resolve();
        });
      });
      await listening;
      const first = connect(port, '127.0.0.1');
      let reply = '';
      first.on('data', (c: Buffer) => (reply += c.toString('latin1')));
      await new Promise((r) => first.once('connect', r));
      first.write(encodePacket('qC'));
      while (!reply.includes('#')) await new Promise((r) => setTimeout(r, 10));
      const second = connect(port, '127.0.0.1');
      const secondClosed = new Promise<boolean>((resolve) => {
        second.on('error', () => resolve(true));
        second.on('close', () => resolve(true));
      });
      assert.equal(await secondClosed, true);
      assert.equal(reply, `+${encodePacket('QC1')}`);
      first.end(encodePacket('D'));
      await served;
    });
  });

  describe('--listen', () => {
    it('takes PORT or 127.0.0.1:PORT or localhost:PORT', () => {
      assert.deepEqual(parseListen('0'), { host: '127.0.0.1', port: 0 });
      assert.deepEqual(parseListen('localhost:1234'), { host: '127.0.0.1', port: 1234 });
    });
    it('refuses any host other than the loopback address', () => {
      assert.throws(() => parseListen('0.0.0.0:1234'), /127\.0\.0\.1 only/);
      assert.throws(() => parseListen('example.com:1'), /127\.0\.0\.1 only/);
      assert.throws(() => parseListen('99999'), /\[HOST:\]PORT/);
    });
  });
});

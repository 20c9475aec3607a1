// The remote protocol's packets, answered against a GdbTarget. One method per packet family; a
// packet we do not know gets the empty reply, a malformed one `E01`, and no input throws.
import type { Address } from '../types.js';
import { AMD64_REGISTERS, targetXml } from './amd64-registers.js';
import { MAX_PACKET, asciiHex, fromHex, fromLeHex, hexNumber, leHex, toHex, unescapeBinary } from './packets.js';
import type { GdbTarget, TargetStop } from './target.js';

export interface Reply {
  /** The packet body to send, or null for none (`k`). */
  reply: string | null;
  /** Close the connection after sending. */
  close: boolean;
}

const ERROR = 'E01';
/** Bound on the single steps of one range step (`vCont;r`), so a loop inside the range still returns to gdb. */
const RANGE_STEP_LIMIT = 100_000;
const SIGTRAP = 5;

const SUPPORTED = `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;qXfer:threads:read+;vContSupported+;swbreak+;hwbreak+`;

export class GdbProtocol {
  private stop: TargetStop;
  /** Thread `Hg` selected for registers and memory (0: the stopped thread). */
  private generalThread = 0;
  /** Thread `Hc` selected for `s` and `c` (0 or -1: the stopped thread). */
  private continueThread = 0;
  /** Breakpoints gdb inserted: a range step stops on one, as gdbserver's does. */
  private readonly breakpoints = new Set<Address>();

  constructor(private readonly target: GdbTarget) {
    this.stop = target.currentStop();
  }

  handle(packet: string): Reply {
    try {
      return this.dispatch(packet);
    } catch {
      // A target error (a thread that ended, an unmapped register file) is the client's error reply.
      return { reply: ERROR, close: false };
    }
  }

  private dispatch(p: string): Reply {
    const answer = (reply: string | null): Reply => ({ reply, close: false });
    switch (p[0]) {
      case '?':
        return answer(this.stopReply());
      case 'q':
        return answer(this.query(p));
      case 'Q':
        return answer('');
      case 'H':
        return answer(this.selectThread(p));
      case 'T':
        return answer(this.alive(hexNumber(p.slice(1))) ? 'OK' : ERROR);
      case 'g':
        return answer(p === 'g' ? this.readAll() : ERROR);
      case 'G':
        return answer(this.writeAll(p.slice(1)));
      case 'p':
        return answer(this.readOne(p.slice(1)));
      case 'P':
        return answer(this.writeOne(p.slice(1)));
      case 'm':
        return answer(this.readMemory(p.slice(1)));
      case 'M':
        return answer(this.writeMemory(p.slice(1), false));
      case 'X':
        return answer(this.writeMemory(p.slice(1), true));
      case 'Z':
      case 'z':
        return answer(this.breakpoint(p));
      case 'c':
      case 'C':
        return answer(this.running() ? this.report(this.target.resume()) : ERROR);
      case 's':
      case 'S':
        return answer(this.running() ? this.report(this.target.step(this.stepThread())) : ERROR);
      case 'v':
        // vKill;PID is k for a client that speaks multiprocess.
        return p.startsWith('vKill') ? { reply: 'OK', close: true } : answer(this.verbose(p));
      case 'k':
        return { reply: null, close: true };
      case 'D':
        return { reply: 'OK', close: true };
      default:
        return answer('');
    }
  }

  // ---- stops ----

  private running(): boolean {
    return this.stop.kind === 'stopped';
  }

  private report(stop: TargetStop): string {
    this.stop = stop;
    return this.stopReply();
  }

  private stopReply(): string {
    const s = this.stop;
    if (s.kind === 'exited') return `W${leHex(BigInt(s.code), 1)}`;
    if (s.kind === 'killed') return `X${leHex(BigInt(s.signal), 1)}`;
    return `T${leHex(BigInt(s.signal), 1)}thread:${s.tid.toString(16)};core:${this.target.core(s.tid).toString(16)};${s.breakpoint ? 'swbreak:;' : ''}`;
  }

  private stoppedThread(): number | null {
    return this.stop.kind === 'stopped' ? this.stop.tid : null;
  }

  private stepThread(): number {
    return this.continueThread > 0 ? this.continueThread : this.stoppedThread()!;
  }

  private registerThread(): number | null {
    return this.generalThread > 0 ? this.generalThread : this.stoppedThread();
  }

  private alive(tid: bigint | null): boolean {
    return tid !== null && this.running() && this.target.threads().includes(Number(tid));
  }

  // ---- queries ----

  private query(p: string): string {
    if (p.startsWith('qSupported')) return SUPPORTED;
    if (p === 'qAttached') return '0';
    if (p === 'qC') return this.running() ? `QC${this.stoppedThread()!.toString(16)}` : ERROR;
    if (p === 'qfThreadInfo') return this.running() ? `m${this.target.threads().map((t) => t.toString(16)).join(',')}` : 'l';
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qThreadExtraInfo,')) {
      const tid = hexNumber(p.slice('qThreadExtraInfo,'.length));
      return this.alive(tid) ? asciiHex(`${this.target.threadName(Number(tid))} cpu${this.target.core(Number(tid))}`) : ERROR;
    }
    if (p.startsWith('qXfer:')) return this.transfer(p);
    if (p.startsWith('qRcmd,')) return this.monitor(p.slice('qRcmd,'.length));
    return '';
  }

  /** `qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH`: a window of the object, `m` when more follows, `l` at its end. */
  private transfer(p: string): string {
    const m = /^qXfer:([a-z]+):read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
    if (!m) return /^qXfer:(features|threads):read:/.test(p) ? ERROR : '';
    let text: string;
    if (m[1] === 'features' && m[2] === 'target.xml') text = targetXml();
    else if (m[1] === 'threads' && m[2] === '') text = this.threadsXml();
    else return m[1] === 'features' || m[1] === 'threads' ? 'E00' : '';
    const offset = parseInt(m[3]!, 16);
    const length = Math.min(parseInt(m[4]!, 16), MAX_PACKET / 2);
    const chunk = text.slice(offset, offset + length);
    return (offset + length >= text.length ? 'l' : 'm') + chunk;
  }

  private threadsXml(): string {
    const threads = this.running() ? this.target.threads() : [];
    const items = threads.map((t) => `<thread id="${t.toString(16)}" core="${this.target.core(t)}" name="${this.target.threadName(t)}"/>`);
    return `<?xml version="1.0"?><threads>${items.join('')}</threads>`;
  }

  private monitor(hexCommand: string): string {
    const bytes = fromHex(hexCommand);
    if (!bytes) return ERROR;
    let out: string;
    try {
      out = this.target.monitor(Buffer.from(bytes).toString('utf8').trim(), this.running() ? this.registerThread() : null);
    } catch (e) {
      out = `error: ${e instanceof Error ? e.message : String(e)}\n`;
    }
    return out === '' ? 'OK' : asciiHex(out.endsWith('\n') ? out : out + '\n');
  }

  private selectThread(p: string): string {
    const m = /^H([gc])(-1|[0-9a-fA-F]+)$/.exec(p);
    if (!m) return ERROR;
    const tid = m[2] === '-1' ? -1 : parseInt(m[2]!, 16);
    if (tid > 0 && !this.alive(BigInt(tid))) return ERROR;
    if (m[1] === 'g') this.generalThread = tid;
    else this.continueThread = tid;
    return 'OK';
  }

  // ---- registers and memory ----

  private readAll(): string {
    const tid = this.registerThread();
    if (tid === null || !this.alive(BigInt(tid))) return ERROR;
    return AMD64_REGISTERS.map((r) => this.registerHex(tid, r.name, r.bits / 8)).join('');
  }

  private registerHex(tid: number, name: string, bytes: number): string {
    const v = this.target.readRegister(tid, name);
    return v === null ? 'xx'.repeat(bytes) : leHex(v, bytes);
  }

  private writeAll(data: string): string {
    const tid = this.registerThread();
    const total = AMD64_REGISTERS.reduce((n, r) => n + r.bits / 4, 0);
    if (tid === null || !this.alive(BigInt(tid)) || data.length !== total) return ERROR;
    let at = 0;
    for (const r of AMD64_REGISTERS) {
      const field = data.slice(at, at + r.bits / 4);
      at += r.bits / 4;
      if (/^x+$/i.test(field)) continue;
      const v = fromLeHex(field);
      if (v === null) return ERROR;
      // Only changed registers are written; those the target does not model stay unavailable.
      const now = this.target.readRegister(tid, r.name);
      if (now !== null && now !== v) this.target.writeRegister(tid, r.name, v);
    }
    return 'OK';
  }

  private readOne(field: string): string {
    const n = hexNumber(field);
    const tid = this.registerThread();
    if (n === null || tid === null || !this.alive(BigInt(tid))) return ERROR;
    const r = AMD64_REGISTERS[Number(n)];
    return r ? this.registerHex(tid, r.name, r.bits / 8) : ERROR;
  }

  private writeOne(field: string): string {
    const m = /^([0-9a-fA-F]+)=([0-9a-fA-F]*)$/.exec(field);
    const tid = this.registerThread();
    if (!m || tid === null || !this.alive(BigInt(tid))) return ERROR;
    const r = AMD64_REGISTERS[parseInt(m[1]!, 16)];
    const v = fromLeHex(m[2]!);
    if (!r || v === null || m[2]!.length !== r.bits / 4) return ERROR;
    return this.target.writeRegister(tid, r.name, v) ? 'OK' : ERROR;
  }

  private range(text: string): { address: Address; length: number } | null {
    const [a, l] = text.split(',');
    const address = hexNumber(a);
    const length = hexNumber(l);
    if (address === null || length === null || length > BigInt(MAX_PACKET / 2)) return null;
    return { address, length: Number(length) };
  }

  private readMemory(args: string): string {
    const r = this.range(args);
    if (!r || !this.running()) return ERROR;
    if (r.length === 0) return '';
    const bytes = this.target.readMemory(r.address, r.length);
    return bytes ? toHex(bytes) : ERROR;
  }

  private writeMemory(args: string, binary: boolean): string {
    const colon = args.indexOf(':');
    const r = colon < 0 ? null : this.range(args.slice(0, colon));
    if (!r || !this.running()) return ERROR;
    const payload = args.slice(colon + 1);
    const bytes = binary ? Uint8Array.from(Buffer.from(unescapeBinary(payload), 'latin1')) : fromHex(payload);
    if (!bytes || bytes.length !== r.length) return ERROR;
    if (r.length === 0) return 'OK';
    return this.target.writeMemory(r.address, bytes) ? 'OK' : ERROR;
  }

  private breakpoint(p: string): string {
    const m = /^([Zz])([0-4]),([0-9a-fA-F]{1,16}),([0-9a-fA-F]+)(;.*)?$/.exec(p);
    if (!m) return ERROR;
    // Software and hardware breakpoints are the same thing here; watchpoints are not supported.
    if (m[2] !== '0' && m[2] !== '1') return '';
    const address = BigInt('0x' + m[3]);
    if (m[1] === 'Z') {
      this.target.insertBreakpoint(address);
      this.breakpoints.add(address);
    } else {
      this.target.removeBreakpoint(address);
      this.breakpoints.delete(address);
    }
    return 'OK';
  }

  // ---- vCont ----

  private verbose(p: string): string {
    if (p === 'vCont?') return 'vCont;c;C;s;S;r';
    if (p.startsWith('vCont;')) return this.vCont(p.slice('vCont;'.length));
    return '';
  }

  /**
   * `vCont;ACTION[:TID];…`: the first action naming a thread that steps (`s`, `r`) decides; with
   * none, a `c` resumes everything. All-stop: a step runs only the stepped thread, as with
   * scheduler-locking on (the other threads still get their resume work at their next resume).
   */
  private vCont(actions: string): string {
    if (!this.running()) return ERROR;
    const parsed = actions.split(';').map((a) => /^([cCsS])(?:[0-9a-fA-F]{2})?(?::(-1|[0-9a-fA-F]+))?$|^r([0-9a-fA-F]+),([0-9a-fA-F]+)(?::(-1|[0-9a-fA-F]+))?$/.exec(a));
    if (parsed.some((m) => m === null)) return ERROR;
    const threadOf = (t: string | undefined) => (t === undefined || t === '-1' ? this.stoppedThread()! : parseInt(t, 16));
    for (const m of parsed) {
      const kind = m![1]?.toLowerCase() ?? 'r';
      if (kind === 'c') continue;
      const tid = threadOf(kind === 's' ? m![2] : m![5]);
      if (!this.target.threads().includes(tid)) return ERROR;
      if (kind === 's') return this.report(this.target.step(tid));
      return this.report(this.rangeStep(tid, BigInt('0x' + m![3]), BigInt('0x' + m![4])));
    }
    return this.report(this.target.resume());
  }

  /** Range stepping done as single steps inside the emulator, so each one is still a debug stop (as ptrace stepping is). */
  private rangeStep(tid: number, start: Address, end: Address): TargetStop {
    let stop = this.target.step(tid);
    for (let i = 1; i < RANGE_STEP_LIMIT; i++) {
      if (stop.kind !== 'stopped' || stop.tid !== tid || stop.signal !== SIGTRAP || stop.breakpoint) return stop;
      const rip = this.target.readRegister(tid, 'rip');
      if (rip === null || rip < start || rip >= end) return stop;
      if (this.breakpoints.has(rip)) return { ...stop, breakpoint: true };
      stop = this.target.step(tid);
    }
    return stop;
  }
}

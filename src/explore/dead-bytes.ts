// The default rule's proof that a leftover try-store is dead data. A byte an aborted attempt stored
// last, where the serial order left another value, is unobservable to the scenario's operations
// when no sequence of up to `depth` of them (each distinct call, on each CPU), run from the serial
// state, loads it before storing it. Such a sequence runs identically from the concurrent state —
// every byte it loads is equal in both — so no operation can tell the two states apart within that
// depth. The byte must also be one the operations do load somewhere in those sequences (after
// storing it): memory they never read at all (a push-only scenario's items) gives no evidence
// either way, and keeps being compared.
import type { Image } from '../asm/image.js';
import type { Machine, MachineSnapshot } from '../kernel/machine.js';
import type { Profile } from '../kernel/profile.js';
import type { Scenario } from '../scenario/scenario.js';
import { instantiate } from '../scenario/setup.js';
import type { Address } from '../types.js';
import type { SharedMemory } from './oracle.js';

export interface ProbeOp {
  entry: Address;
  args: readonly bigint[];
}

const stateKey = (m: readonly SharedMemory[]) => m.map((r) => Buffer.from(r.bytes).toString('base64')).join('|');

export class DeadByteProbe {
  private machine: Machine | null = null;
  private start: MachineSnapshot | null = null;
  private readonly cache = new Map<string, boolean>();
  // What the memory hook watches during one probe sequence.
  private watched = new Set<Address>();
  private written = new Set<Address>();
  private observed = false;
  private evidence = false;

  constructor(
    private readonly image: Image,
    private readonly scenario: Scenario,
    private readonly profile: Profile,
    private readonly ops: readonly ProbeOp[],
    readonly depth = 2,
  ) {}

  close(): void {
    this.machine?.close();
  }

  /** Whether every byte of `bytes` is provably unobservable in the serial state `state`. */
  unobservable(state: readonly SharedMemory[], bytes: readonly Address[]): boolean {
    const key = `${stateKey(state)}#${[...bytes].sort().join(',')}`;
    let dead = this.cache.get(key);
    if (dead === undefined) {
      dead = this.probe(state, bytes);
      this.cache.set(key, dead);
    }
    return dead;
  }

  private ensure(state: readonly SharedMemory[]): Machine {
    if (this.machine) return this.machine;
    const m = instantiate(this.image, { ...this.scenario, threads: [] }, this.profile);
    // Memory hooks apply to code translated after they are added: add this one before any run.
    const lo = state.reduce((a, r) => (r.address < a ? r.address : a), state[0]?.address ?? 0n);
    const hi = state.reduce((a, r) => (r.address + BigInt(r.bytes.length) > a ? r.address + BigInt(r.bytes.length) : a), lo + 1n);
    m.emu.onMemoryAccess(lo, hi, (access, address, size) => {
      for (let k = 0n; k < BigInt(size); k++) {
        const a = address + k;
        if (!this.watched.has(a)) continue;
        if (access === 'write') this.written.add(a);
        else if (this.written.has(a)) this.evidence = true;
        else this.observed = true;
      }
    });
    this.machine = m;
    this.start = m.capture();
    return m;
  }

  private probe(state: readonly SharedMemory[], bytes: readonly Address[]): boolean {
    const m = this.ensure(state);
    m.restore(this.start!);
    for (const r of state) m.emu.write(r.address, r.bytes);
    this.watched = new Set(bytes);
    this.observed = false;
    this.evidence = false;
    const dfs = (left: number, written: ReadonlySet<Address>): void => {
      const here = m.capture();
      for (const op of this.ops) {
        for (let cpu = 0; cpu < m.cpus && !this.observed; cpu++) {
          this.written = new Set(written);
          const out = m.call(op.entry, op.args, { cpu });
          if (!this.observed && out.status === 'returned' && left > 1) dfs(left - 1, this.written);
          m.restore(here);
        }
      }
    };
    try {
      dfs(this.depth, new Set());
    } finally {
      this.watched = new Set();
    }
    return !this.observed && this.evidence;
  }
}

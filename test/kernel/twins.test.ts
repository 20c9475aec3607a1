// Each deliberately broken twin of counter_add fails the way its bug says, and the correct op
// survives the very same schedule.
import { strict as assert } from 'node:assert';
import { readRseqTables } from '../../src/abi/tables.js';
import type { Image } from '../../src/asm/image.js';
import type { Machine, SwitchOut } from '../../src/kernel/machine.js';
import { hex } from '../../src/types.js';
import { address, bundled, runEntry } from '../support/program.js';

const COUNTERS = [{ name: 'counters', size: 16, words: [100n, 200n] }];

/** Another thread on the CPU we left adds 10 to that CPU's counter while we are switched out. */
function otherThreadAddsTen(e: SwitchOut, m: Machine): void {
  const slot = m.regions.get('counters')!.address + BigInt(e.from) * 8n;
  const v = new DataView(m.emu.read(slot, 8).buffer).getBigUint64(0, true);
  m.emu.write(slot, new Uint8Array(new BigUint64Array([v + 10n]).buffer));
}

const run = (image: Image, events: string[], interfere = false) => {
  const r = runEntry(image, 'counter_add', ['counters', 5n], { regions: COUNTERS, events, call: interfere ? { onSwitchOut: otherThreadAddsTen } : {} });
  r.machine.close();
  return r;
};
const firstSection = (image: Image) => readRseqTables(image).sections[0]!;

describe('broken twins of counter_add', () => {
  describe('killed by the kernel when an event hits the section', () => {
    const cases: [string, RegExp][] = [
      ['counter_add.bug-wrong-signature.s', /signature mismatch: 0x53053054 at abort_ip - 4, expected 0x53053053/],
      ['counter_add.bug-no-signature.s', /signature mismatch: 0x[0-9a-f]{8} at abort_ip - 4/],
      ['counter_add.bug-abort-inside.s', /abort_ip 0x[0-9a-f]+ is inside the critical section/],
      ['counter_add.bug-version-1.s', /descriptor version 1, expected 0/],
    ];
    for (const [file, reason] of cases) {
      it(`${file} gets SIGSEGV naming its bug on a preemption inside the section`, async () => {
        const image = await bundled(file);
        const r = run(image, [`preempt@${hex(firstSection(image).startIp)}`]);
        assert.equal(r.outcome.status, 'signal');
        assert.equal(r.outcome.signal, 'SIGSEGV');
        assert.match(r.outcome.reason ?? '', reason);
        assert.equal(r.outcome.events[0]!.outcome, 'sigsegv');
      });
      it(`${file} is killed even by a preemption after the commit, before the lazy clear`, async () => {
        const image = await bundled(file);
        const r = run(image, [`preempt@${hex(firstSection(image).postCommitIp)}`]);
        assert.equal(r.outcome.signal, 'SIGSEGV');
      });
      it(`${file} runs to completion when no event arrives`, async () => {
        const image = await bundled(file);
        assert.deepEqual(run(image, []).memory.counters, [105n, 200n]);
      });
    }
  });

  it('counter_add.bug-commit-outside.s loses the other thread\'s update when preempted at its commit store', async () => {
    const image = await bundled('counter_add.bug-commit-outside.s');
    const commit = firstSection(image).postCommitIp; // the commit store sits right at the (early) post-commit point
    const r = run(image, [`preempt@${hex(commit)}`], true);
    assert.equal(r.outcome.events[0]!.outcome, 'cleared');
    assert.deepEqual(r.memory.counters, [105n, 200n], 'the +10 made while switched out was overwritten');
  });

  it('counter_add.s keeps both updates under the same schedule', async () => {
    const buggy = await bundled('counter_add.bug-commit-outside.s');
    const image = await bundled('counter_add.s');
    // The same instruction in the correct file: the commit store, inside the section there.
    const offset = firstSection(buggy).postCommitIp - address(buggy, 'counter_add');
    const r = run(image, [`preempt@${hex(address(image, 'counter_add') + offset)}`], true);
    assert.equal(r.outcome.events[0]!.outcome, 'aborted');
    assert.deepEqual(r.memory.counters, [115n, 200n]);
  });

  it('counter_add.bug-late-rseq-cs.s loses the other thread\'s update when preempted between its load and arming the section', async () => {
    const image = await bundled('counter_add.bug-late-rseq-cs.s');
    const cs = firstSection(image);
    // The arming store is the instruction right before start; the shared load came earlier.
    const arming = image.lines.filter((l) => l.kind === 'instruction' && l.address < cs.startIp).at(-1)!.address;
    const r = run(image, [`preempt@${hex(arming)}`], true);
    assert.notEqual(r.outcome.events[0]!.outcome, 'aborted');
    assert.deepEqual(r.memory.counters, [105n, 200n]);
  });

  it('counter_add.bug-no-cpu-compare.s updates the counter of a CPU it no longer runs on after a migration before start', async () => {
    const image = await bundled('counter_add.bug-no-cpu-compare.s');
    const cs = firstSection(image);
    const arming = image.lines.filter((l) => l.kind === 'instruction' && l.address < cs.startIp).at(-1)!.address;
    const r = run(image, [`migrate:1@${hex(arming)}`]);
    assert.equal(r.outcome.events[0]!.cpu, 1);
    assert.deepEqual(r.memory.counters, [105n, 200n], 'CPU 0\'s counter changed although the commit ran on CPU 1');
    assert.equal(r.outcome.rax, 0n);
  });

  it('counter_add.s detects the same migration with its cpu compare and updates CPU 1\'s counter', async () => {
    const image = await bundled('counter_add.s');
    const cs = firstSection(image);
    const arming = image.lines.filter((l) => l.kind === 'instruction' && l.address < cs.startIp).at(-1)!.address;
    const r = run(image, [`migrate:1@${hex(arming)}`]);
    assert.deepEqual(r.memory.counters, [100n, 205n]);
    assert.equal(r.outcome.rax, 1n);
  });
});

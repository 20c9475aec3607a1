// Exploration on rseq code written the way other projects write it.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { explore } from '../../src/explore/explorer.js';
import { assembleSource } from '../../src/program.js';
import { parseMemorySpec, parseThreadSpecs, type Scenario } from '../../src/scenario/scenario.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/tcmalloc_style.s', import.meta.url));
const THREADS = 'percpu_cas(0,slot,0,1)@0;percpu_cas(0,slot,0,2)@0;percpu_cas(1,slot+8,0,3)@1';

const scenario = (): Scenario => ({
  source: FIXTURE, cpus: 2, profile: undefined, registration: 'glibc', memory: [parseMemorySpec('slot:16')],
  threads: parseThreadSpecs(THREADS, 2), invariants: [], maxInstructions: undefined,
});

describe('exploring TCMalloc-style rseq code (TLS __rseq_abi, nopl signature, trampoline abort)', function () {
  this.timeout(60_000);
  it('finds no violation in the whole K = 2 space', async () => {
    const source = readFileSync(FIXTURE, 'utf8');
    const image = await assembleSource(source, FIXTURE);
    const r = explore(image, scenario());
    assert.equal(r.verdict, 'pass', r.violations.map((v) => v.message).join('\n'));
    assert.ok(r.complete);
    // The space itself, without the state cache's skipped states, is not a trivial one.
    assert.ok(explore(image, scenario(), { stateCache: false }).schedules > 1000);
  });
  it('finds the lost update when the CPU check is dropped', async () => {
    const source = readFileSync(FIXTURE, 'utf8').replace(/\tcmpl %eax, %edi\n\tjne \.Lpercpu_cas_commit\n/, '');
    const r = explore(await assembleSource(source, 'no-cpu-check.s'), scenario(), { stopAtFirst: true });
    assert.equal(r.verdict, 'fail');
    assert.equal(r.violations[0]!.kind, 'not-serializable');
  });
});

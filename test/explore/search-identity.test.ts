// The identity merge checks shards against: the same program and scenario hash alike wherever
// their files lie; any change to what runs or to the search options tells them apart; how the
// search is split or stopped (workers, timeout, shard) does not.
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParallelOptions } from '../../src/explore/explore-workers.js';
import { searchIdentity } from '../../src/explore/search-identity.js';
import { loadProgram } from '../../src/program.js';
import { loadScenario } from '../../src/scenario/scenario.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COUNTER = JSON.parse(readFileSync(join(ROOT, 'examples/scenarios/counter.json'), 'utf8'));

describe('the identity of a search', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'rseq-emu-identity-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** counter.json and its source copied to a directory of its own, the source edited by `edit`. */
  async function copy(name: string, scenario: Record<string, unknown> = {}, edit = (s: string) => s) {
    const at = join(dir, name);
    mkdirSync(at);
    writeFileSync(join(at, 'counter_add.s'), edit(readFileSync(join(ROOT, 'asm/counter_add.s'), 'utf8')));
    writeFileSync(join(at, 's.json'), JSON.stringify({ ...COUNTER, source: 'counter_add.s', ...scenario }));
    const s = await loadScenario(join(at, 's.json'));
    return { scenario: s, image: await loadProgram(s.source) };
  }
  const hash = async (name: string, scenario?: Record<string, unknown>, edit?: (s: string) => string) => {
    const { scenario: s, image } = await copy(name, scenario, edit);
    return searchIdentity(image, s, {}).scenarioHash;
  };

  it('tells apart a scenario with another initial word', async () => {
    assert.notEqual(await hash('c', { memory: { counters: { size: 16, init: [1, 0] } } }), await hash('d'));
  });
  it('tells apart a program with another instruction', async () => {
    const edited = await hash('e', {}, (s) => s.replace(/\baddq\b/, 'subq'));
    assert.notEqual(edited, await hash('f'));
  });
  it('records the bound, the kinds in their order, the profile and the limits, but not workers, timeout or shard', async () => {
    const { scenario, image } = await copy('g');
    const base = searchIdentity(image, scenario, {}).search;
    const split: ParallelOptions = { workers: 3, timeout: 5, shard: { index: 2, count: 4 } };
    assert.deepEqual(searchIdentity(image, scenario, split).search, base);
    assert.notDeepEqual(searchIdentity(image, scenario, { preemptions: 3 }).search, base);
    assert.notDeepEqual(searchIdentity(image, scenario, { kinds: ['migrate', 'preempt'] }).search, searchIdentity(image, scenario, { kinds: ['preempt', 'migrate'] }).search);
    assert.equal(base.profile, 'linux');
    assert.match(String(base.limits), /threads=256/);
  });
  it('hashes the same scenario and program in another directory alike', async () => {
    const at = join(dir, 'h');
    mkdirSync(at);
    copyFileSync(join(ROOT, 'asm/counter_add.s'), join(at, 'counter_add.s'));
    writeFileSync(join(at, 's.json'), JSON.stringify({ ...COUNTER, source: 'counter_add.s' }));
    const original = await loadScenario(join(ROOT, 'examples/scenarios/counter.json'));
    const copied = await loadScenario(join(at, 's.json'));
    assert.equal(searchIdentity(await loadProgram(copied.source), copied, {}).scenarioHash, searchIdentity(await loadProgram(original.source), original, {}).scenarioHash);
  });
});

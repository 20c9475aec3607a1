// The targets bench's choices and arithmetic (bench/targets.bench.ts); the searches it times are not run here.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { correctScenarios, parseArgs, peakRss, spread, withinTargets } from '../../bench/targets.bench.js';

describe('targets bench', () => {
  it('times every bundled scenario but the broken twins', () => {
    const names = correctScenarios();
    assert.ok(names.includes('spinlock') && names.includes('list') && names.includes('memcpy-buffer'));
    assert.ok(!names.includes('counter-commit-outside'));
  });

  it('tells a broken twin by its source, whatever the scenario is called', () => {
    const dir = mkdtempSync(join(tmpdir(), 'targets-'));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ source: '../asm/x.bug-late.s' }));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ source: '../asm/x.s' }));
    writeFileSync(join(dir, 'notes.txt'), 'not a scenario');
    assert.deepEqual(correctScenarios(dir), ['a']);
  });

  it('reads the peak RSS the probe printed among other output', () => {
    assert.equal(peakRss('progress\npeak-rss 1048576\n'), 1048576);
    assert.equal(peakRss('no probe here'), null);
  });

  it('gives the median of an even count as the mean of the middle two', () => {
    assert.deepEqual(spread([4, 1, 3, 2]), { min: 1, median: 2.5, max: 4 });
    assert.deepEqual(spread([5]), { min: 5, median: 5, max: 5 });
  });

  it('counts a row within the targets only when every run is: 10 s of wall time and under 1 GB', () => {
    assert.equal(withinTargets([9.9, 10], [2 ** 29]), true);
    assert.equal(withinTargets([9.9, 10.01], [2 ** 29]), false);
    assert.equal(withinTargets([1], [1024 ** 3]), false);
  });

  it('refuses a run count below one and an unknown option', () => {
    assert.throws(() => parseArgs(['--runs', '0']), /--runs/);
    assert.throws(() => parseArgs(['--fast']), /unknown option/);
    assert.deepEqual(parseArgs(['--load', '2', 'list']), { runs: 3, load: 2, preemptions: '3', workers: null, names: ['list'] });
  });
});

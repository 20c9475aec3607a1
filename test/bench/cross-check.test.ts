// The cross-check bench's choice of searches (bench/cross-check.bench.ts); the searches are not run here.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cases, parseArgs } from '../../bench/cross-check.bench.js';

describe('cross-check bench', () => {
  it('makes every bundled scenario and every broken twin in each scenario of its op', () => {
    const names = cases().map((c) => c.name);
    for (const name of ['spinlock', 'counter-commit-outside', 'counter_add.bug-late-rseq-cs in counter', 'counter_add.bug-late-rseq-cs in counter-two-threads', 'slab_stack.bug-pop-after-commit in slab-stack']) {
      assert.ok(names.includes(name), `${name} is missing from ${names.join(', ')}`);
    }
    assert.ok(!names.some((n) => n.startsWith('counter_add.bug') && n.endsWith(' in counter-cpu-opv')), 'a cpu_opv build of the op is another program');
  });

  it('finds a twin\'s scenarios by the program of its op, in folders of its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cross-check-'));
    mkdirSync(join(dir, 'asm'));
    mkdirSync(join(dir, 'scenarios'));
    writeFileSync(join(dir, 'asm', 'push.bug-late.s'), '');
    writeFileSync(join(dir, 'asm', 'pop.bug-early.s'), '');
    writeFileSync(join(dir, 'scenarios', 'b.json'), JSON.stringify({ source: '../asm/push.s' }));
    writeFileSync(join(dir, 'scenarios', 'a.json'), JSON.stringify({ source: '../asm/push.fast.s' }));
    const found = cases(join(dir, 'scenarios'), join(dir, 'asm'));
    assert.deepEqual(found.map((c) => [c.name, c.twin !== null]), [['a', false], ['b', false], ['push.bug-late in b', true]]);
  });

  it('defaults to K = 3 and the explorer\'s schedule cap, and refuses what it cannot take', () => {
    assert.deepEqual(parseArgs(['list']), { preemptions: 3, maxSchedules: 1_000_000, filters: ['list'] });
    assert.throws(() => parseArgs(['--preemptions', 'x']), /--preemptions needs a whole number/);
    assert.throws(() => parseArgs(['--max-schedules', '0']), /at least 1/);
    assert.throws(() => parseArgs(['--fast']), /unknown option --fast/);
  });
});

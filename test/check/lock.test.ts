// commit/outside and locks: a section whose commit takes a per-CPU lock (the selftests' spinlock)
// protects the stores made after it until the lock word is stored again (the release).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { check, serious } from './support.js';

const SPINLOCK = readFileSync(fileURLToPath(new URL('../../asm/percpu_spinlock.s', import.meta.url)), 'utf8');
const RELEASE = '\tmovq $0, (%rdi,%r8,8)\n';
const UPDATE = '\tmovq (%rsi,%r8,8), %r9\n\taddq %rdx, %r9\n\tmovq %r9, (%rsi,%r8,8)\n';

describe('commit/outside with a lock taken by the commit', () => {
  it('passes the bundled spinlock, whose update of counts[cpu] comes before the release', async () => {
    assert.ok(SPINLOCK.includes(UPDATE + RELEASE), 'the fixture has the update, then the release');
    assert.deepEqual(serious(await check(SPINLOCK)), []);
  });

  it('reports the update when it comes after the release, where the lock no longer protects it', async () => {
    const late = SPINLOCK.replace(UPDATE + RELEASE, RELEASE + UPDATE);
    const findings = (await check(late)).filter((f) => f.rule === 'commit/outside');
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.severity, 'error');
    assert.match(findings[0]!.message, /movq %r9, \(%rsi, %r8, 8\)/);
  });

  it('reports the update when nothing releases the lock word (the commit is then no lock)', async () => {
    const never = SPINLOCK.replace(UPDATE + RELEASE, UPDATE);
    assert.equal((await check(never)).filter((f) => f.rule === 'commit/outside').length, 1);
  });
});

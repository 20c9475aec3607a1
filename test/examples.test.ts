// The README's example commands print what they claim.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const example = (name: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `examples/${name}`, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

describe('examples', function () {
  this.timeout(60_000);
  it('glibc-affinity.ts passes under linux and prints "Unexpected CPU 1, expected 0" under bug-new-task-cpu-id', () => {
    const out = example('glibc-affinity.ts');
    assert.match(out, /--profile linux\n.*matched on every CPU\n.*PASS/);
    assert.match(out, /--profile bug-new-task-cpu-id\n.*Unexpected CPU 1, expected 0\n.*FAIL/);
  });
  it('kvm-rseq.ts finds stale cpu_id windows under bug-kvm-run and none under linux', () => {
    const out = example('kvm-rseq.ts');
    assert.match(out, /--profile linux: completed; read windows with a matching cpu_id: \d+, with a stale cpu_id: 0\n/);
    const stale = /--profile linux,bug-kvm-run: .* with a stale cpu_id: (\d+)/.exec(out);
    assert.ok(stale && Number(stale[1]) > 0, out);
  });
  it('rseq-errors.ts walks every rseq() error case of the selftest', () => {
    const out = example('rseq-errors.ts');
    const results = [...out.matchAll(/→ (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(results, ['-EINVAL', '-EINVAL', '-EINVAL', '-EFAULT', '0', '-EBUSY', '-EPERM', '0', '-EINVAL']);
  });
  it('signal-in-cs.ts shows the handler with rseq_cs cleared and sigreturn landing on the abort handler', () => {
    const out = example('signal-in-cs.ts');
    assert.match(out, /fix-up before the frame: aborted/);
    assert.match(out, /rseq_cs = 0x0\n/);
    assert.match(out, /RIP saved in its frame: 0x[0-9a-f]+ <\.Labort>/);
    assert.match(out, /counters\[0\] = 1\n/);
  });
  it('sweep-section.ts aborts inside the section and only clears at post-commit', () => {
    const lines = example('sweep-section.ts').trim().split('\n');
    assert.ok(lines.slice(0, -1).every((l) => / aborted /.test(l)));
    assert.match(lines.at(-1)!, / cleared /);
  });
});

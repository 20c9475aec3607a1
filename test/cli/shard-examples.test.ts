// The two ways to run shards on engines people use — a Kubernetes Indexed Job and a GitHub Actions
// matrix — hold together: the shard count, index and result paths agree between the pieces, and
// their shell steps, run here as the engine would run them (a smaller search), write results
// that their merge step joins. No YAML library is a dependency: the few keys and the block-scalar
// scripts are read by the small reader below.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The value of the first `key: value` line at or after line `from` (quotes removed). */
function value(lines: string[], key: string, from = 0): { text: string; line: number } {
  for (let i = from; i < lines.length; i++) {
    const m = new RegExp(`^\\s*(?:- )?${key}:\\s*(.*?)\\s*$`).exec(lines[i]!);
    if (m) return { text: m[1]!.replace(/^"(.*)"$/, '$1'), line: i };
  }
  throw new Error(`no '${key}:' after line ${from + 1}`);
}

/** The block scalar (`key: |` or `- |`) starting at line `at`: the more-indented lines after it, dedented. */
function block(lines: string[], at: number): string {
  assert.match(lines[at]!, /\|\s*$/, `line ${at + 1} starts no block scalar: ${lines[at]}`);
  const indent = /^\s*/.exec(lines[at]!)![0].length;
  const body: string[] = [];
  for (let i = at + 1; i < lines.length && (lines[i]!.trim() === '' || /^\s*/.exec(lines[i]!)![0].length > indent); i++) body.push(lines[i]!);
  const strip = Math.min(...body.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)![0].length));
  return body.map((l) => l.slice(strip)).join('\n') + '\n';
}

/** The `NAME`/`value` pairs of a Kubernetes container's env list. */
function k8sEnv(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*- name: ([A-Z_]+)\s*$/.exec(lines[i]!);
    if (m && /^\s*value:/.test(lines[i + 1] ?? '')) env[m[1]!] = value(lines, 'value', i + 1).text;
  }
  return env;
}

/** A directory holding an `rseq-emu` command that runs this checkout, as an image's PATH would. */
function shimDir(dir: string): string {
  const bin = join(dir, 'shim');
  mkdirSync(bin);
  writeFileSync(join(bin, 'rseq-emu'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/rseq-emu.js')}" "$@"\n`, { mode: 0o755 });
  return bin;
}

const sh = (script: string, cwd: string, env: Record<string, string>) => spawnSync('sh', ['-c', script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });

/** The smaller search the tests run in place of the examples' K = 3 one: a twin, so merge has violations to order. */
const SMALL = { SCENARIO: 'examples/scenarios/counter-commit-outside.json', PREEMPTIONS: '1' };

describe('shard examples for Kubernetes and GitHub Actions', function () {
  this.timeout(300_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rseq-emu-shard-examples-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('examples/k8s', () => {
    const job = read('examples/k8s/explore-indexed-job.yaml').split('\n');
    const merge = read('examples/k8s/merge-job.yaml').split('\n');
    const env = k8sEnv(job);
    const script = block(job, value(job, 'args').line + 1);
    const mergeScript = block(merge, value(merge, 'args').line + 1);

    it('is an Indexed Job with as many completions as the SHARDS its pods pass to --shard', () => {
      assert.equal(value(job, 'completionMode').text, 'Indexed');
      assert.equal(value(job, 'completions').text, env.SHARDS);
      assert.equal(value(job, 'restartPolicy').text, 'Never');
      assert.match(script, /shard=\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/);
      assert.match(script, /--shard "\$shard\/\$SHARDS"/);
      assert.match(script, /--json/);
    });
    it('writes results to the volume the merge Job reads, from the same claim', () => {
      const claim = value(job, 'name', job.findIndex((l) => l === 'kind: PersistentVolumeClaim')).text;
      assert.equal(claim, 'rseq-emu-results');
      assert.equal(value(job, 'claimName').text, claim);
      assert.equal(value(merge, 'claimName').text, claim);
      assert.equal(value(job, 'mountPath').text, env.RESULTS);
      assert.equal(value(merge, 'mountPath').text, k8sEnv(merge).RESULTS);
    });
    it('runs as its pods would: every index writes its shard, a failing one writes none, and the merge step joins them', () => {
      const shim = shimDir(dir);
      const results = join(dir, 'results');
      mkdirSync(results);
      const run = { ...env, ...SMALL, SHARDS: '3', RESULTS: results, PATH: `${shim}:${process.env.PATH}` };
      const codes = [0, 1, 2].map((index) => sh(script, ROOT, { ...run, JOB_COMPLETION_INDEX: String(index) }));
      for (const r of codes) assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readdirSync(results).sort(), ['shard-1-of-3.json', 'shard-2-of-3.json', 'shard-3-of-3.json']);
      const m = sh(mergeScript, ROOT, { RESULTS: results, PATH: run.PATH });
      assert.equal(m.status, 1, m.stderr); // the twin's violations
      assert.match(m.stdout, /^fail: \d+ schedules \(every schedule within 1 deviation\) in 3 shards/m);
      mkdirSync(join(dir, 'empty'));
      const bad = sh(script, ROOT, { ...run, SCENARIO: 'examples/scenarios/none.json', JOB_COMPLETION_INDEX: '0', RESULTS: join(dir, 'empty') });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^rseq-emu: cannot read examples\/scenarios\/none\.json/);
      assert.deepEqual(readdirSync(join(dir, 'empty')), []);
    });
  });

  describe('examples/github-actions', () => {
    const wf = read('examples/github-actions/explore-shards.yml').split('\n');
    const shards = JSON.parse(value(wf, 'shard').text) as number[];
    const exploreStep = wf.findIndex((l) => /name: Explore shard/.test(l));
    const exploreRun = block(wf, value(wf, 'run', exploreStep).line);
    const mergeRun = value(wf, 'run', wf.findIndex((l) => /name: Merge the shards/.test(l))).text;

    it('has a matrix of shards 1 … N passed as --shard I/N, with N the matrix size', () => {
      assert.deepEqual(shards, Array.from({ length: shards.length }, (_, i) => i + 1));
      assert.match(exploreRun, /--shard "\$\{\{ matrix\.shard \}\}\/\$\{\{ strategy\.job-total \}\}"/);
      assert.equal(value(wf, 'fail-fast').text, 'false');
    });
    it('uploads each shard under the name the merge job downloads, and merges after every shard', () => {
      const file = /> "([^"]+)"/.exec(exploreRun)![1]!;
      assert.equal(value(wf, 'path', exploreStep).text, file);
      assert.equal(value(wf, 'name', wf.findIndex((l) => /uses: actions\/upload-artifact@/.test(l))).text, 'shard-${{ matrix.shard }}');
      assert.equal(value(wf, 'needs').text, 'explore');
      assert.equal(value(wf, 'pattern').text, 'shard-*');
      assert.equal(value(wf, 'merge-multiple').text, 'true');
      assert.equal(mergeRun, `node bin/rseq-emu.js merge ${value(wf, 'path', value(wf, 'pattern').line).text}/shard-*.json`);
    });
    it('runs as its jobs would: each matrix entry writes its shard and the merge job joins the downloaded files', () => {
      for (const name of ['bin', 'examples', 'asm', 'node_modules', 'src', 'package.json']) symlinkSync(join(ROOT, name), join(dir, name));
      const total = String(shards.length);
      for (const shard of shards) {
        const script = exploreRun.replaceAll('${{ matrix.shard }}', String(shard)).replaceAll('${{ strategy.job-total }}', total);
        const r = spawnSync('bash', ['-e', '-c', script], { cwd: dir, env: { ...process.env, ...SMALL }, encoding: 'utf8', timeout: 300_000 });
        assert.equal(r.status, 0, r.stderr);
      }
      mkdirSync(join(dir, 'results'));
      for (const shard of shards) renameSync(join(dir, `shard-${shard}.json`), join(dir, 'results', `shard-${shard}.json`));
      const m = spawnSync('bash', ['-e', '-c', mergeRun], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(m.status, 1, m.stderr);
      assert.match(m.stdout, new RegExp(`^fail: \\d+ schedules \\(every schedule within 1 deviation\\) in ${shards.length} shards`, 'm'));
    });
  });
});

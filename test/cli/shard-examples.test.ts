// The two ways to run shards on engines people use — a Kubernetes Indexed Job and a GitHub Actions
// matrix — hold together: the shard count, index and result paths agree between the pieces, and
// their shell steps, run here as the engine would run them (a smaller search), write results
// that their merge step joins. No YAML library is a dependency: test/support/yaml-subset.ts reads
// them (and reads them as PyYAML does, where python3 has it).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readYaml } from '../support/yaml-subset.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Parsed YAML, walked by key: the assertions check its shape. */
type Node = { [key: string]: any };

/** The documents of an example, read by the subset reader. */
const docs = (path: string) => readYaml(read(path)) as Node[];

/** A container's env list as an object. */
const envOf = (container: Node): Record<string, string> => Object.fromEntries((container.env as Node[]).map((e) => [e.name, String(e.value)]));

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

  describe('the YAML subset reader', () => {
    it('reads mappings, sequences of mappings, block scalars with their comment lines, flow sequences and scalars', () => {
      const text = 'a:\n  - name: x\n    n: 3\n  - |\n    echo 1\n    # kept\n      echo 2\n# dropped\nb: [1, two, "3"]\nc: true\n---\nd: e\n';
      assert.deepEqual(readYaml(text), [{ a: [{ name: 'x', n: 3 }, 'echo 1\n# kept\n  echo 2\n'], b: [1, 'two', '3'], c: true }, { d: 'e' }]);
    });
    for (const [what, text, why] of [
      ['a tab', 'a:\n\tb: 1\n', /line 2: a tab/],
      ['a comment after a value', 'a: 1 # one\n', /line 1: a comment after a value/],
      ['an anchor', 'a: &x 1\n', /line 1: outside the subset/],
      ['a duplicate key', 'a: 1\na: 2\n', /line 2: duplicate key 'a'/],
      ['a stray indentation', 'a: 1\n  b: 2\n', /line 2: unexpected indentation/],
    ] as const) {
      it(`refuses ${what}, naming the line`, () => assert.throws(() => readYaml(text), why));
    }
  });

  it('reads every example as PyYAML does, where python3 has it', function () {
    const probe = spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' });
    if (probe.status !== 0) this.skip();
    const files = ['examples/k8s/explore-indexed-job.yaml', 'examples/k8s/merge-job.yaml', 'examples/github-actions/explore-shards.yml'];
    // PyYAML reads the workflow's `on` key as true (YAML 1.1); keys are compared as strings.
    const py = 'import yaml,json,sys\nfix=lambda o: {("on" if k is True else str(k)): fix(v) for k,v in o.items()} if isinstance(o,dict) else [fix(x) for x in o] if isinstance(o,list) else o\nprint(json.dumps([fix(list(yaml.safe_load_all(open(f)))) for f in sys.argv[1:]]))';
    const r = spawnSync('python3', ['-c', py, ...files], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(files.map(docs), JSON.parse(r.stdout));
  });

  describe('examples/k8s', () => {
    const [pvc, job] = docs('examples/k8s/explore-indexed-job.yaml') as [Node, Node];
    const [mergeJob] = docs('examples/k8s/merge-job.yaml') as [Node];
    const pod = job.spec.template.spec;
    const container = pod.containers[0] as Node;
    const env = envOf(container);
    const script = container.args[0] as string;
    const mergeContainer = mergeJob.spec.template.spec.containers[0] as Node;
    const mergeScript = mergeContainer.args[0] as string;

    it('is an Indexed Job with as many completions as the SHARDS its pods pass to --shard', () => {
      assert.equal(job.kind, 'Job');
      assert.equal(job.spec.completionMode, 'Indexed');
      assert.equal(String(job.spec.completions), env.SHARDS);
      assert.equal(pod.restartPolicy, 'Never');
      assert.deepEqual(container.command, ['sh', '-c']);
      assert.match(script, /shard=\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/);
      assert.match(script, /--shard "\$shard\/\$SHARDS"/);
      assert.match(script, /--json/);
    });
    it('writes results to the volume the merge Job reads, from the same claim', () => {
      assert.equal(pvc.kind, 'PersistentVolumeClaim');
      assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany']);
      for (const [p, c] of [[pod, container], [mergeJob.spec.template.spec, mergeContainer]] as const) {
        assert.equal(p.volumes[0].persistentVolumeClaim.claimName, pvc.metadata.name);
        assert.equal(c.volumeMounts[0].name, p.volumes[0].name);
        assert.equal(c.volumeMounts[0].mountPath, envOf(c).RESULTS);
      }
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
    const [wf] = docs('examples/github-actions/explore-shards.yml') as [Node];
    const explore = wf.jobs.explore as Node;
    const shards = explore.strategy.matrix.shard as number[];
    const step = (job: Node, name: RegExp) => (job.steps as Node[]).find((s) => name.test(s.name ?? s.uses))!;
    const exploreRun = step(explore, /^Explore shard/).run as string;
    const upload = step(explore, /upload-artifact/);
    const download = step(wf.jobs.merge, /download-artifact/);
    const mergeRun = step(wf.jobs.merge, /^Merge the shards/).run as string;

    it('has a matrix of shards 1 … N passed as --shard I/N, with N the matrix size', () => {
      assert.deepEqual(shards, Array.from({ length: shards.length }, (_, i) => i + 1));
      assert.match(exploreRun, /--shard "\$\{\{ matrix\.shard \}\}\/\$\{\{ strategy\.job-total \}\}"/);
      assert.equal(explore.strategy['fail-fast'], false);
    });
    it('uploads each shard under the name the merge job downloads, and merges after every shard', () => {
      const file = /> "([^"]+)"/.exec(exploreRun)![1]!;
      assert.equal(upload.with.path, file);
      assert.equal(upload.with.name, 'shard-${{ matrix.shard }}');
      assert.equal(wf.jobs.merge.needs, 'explore');
      assert.equal(download.with.pattern, 'shard-*');
      assert.equal(download.with['merge-multiple'], true);
      assert.equal(mergeRun, `node bin/rseq-emu.js merge ${download.with.path}/shard-*.json`);
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

// The package as a user gets it: `npm pack`, install the tarball with --omit=dev into an empty
// project, then run the CLI, import the library and type-check a consumer there — no tsx, no src/.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCES_RECORD, sourceDigest } from '../../scripts/source-digest.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The installed package's image cache during these tests (never the user's). */
const CACHE = mkdtempSync(join(tmpdir(), 'rseq-emu-pack-cache-'));

/** A command in the consumer project, bounded in time. */
function sh(cwd: string, file: string, args: string[], seconds = 120, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const r = spawnSync(file, args, { cwd, encoding: 'utf8', timeout: seconds * 1000, env: { ...process.env, npm_config_update_notifier: 'false', RSEQ_EMU_CACHE_DIR: CACHE, ...env } });
  if (r.error) throw r.error;
  return r;
}

describe('the npm package', function () {
  this.timeout(600_000);
  let dir: string;
  let project: string;
  let files: string[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rseq-emu-pack-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; files: { path: string }[] }[];
    files = packed[0]!.files.map((f) => f.path);
    project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const r = sh(project, 'npm', ['install', '--omit=dev', '--no-audit', '--no-fund', join(dir, packed[0]!.filename)], 300);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(CACHE, { recursive: true, force: true });
  });

  it('holds only dist, bin, asm, examples and the documents, with no tests and no TypeScript sources', () => {
    const top = new Set(files.map((f) => f.split('/')[0]));
    assert.deepEqual([...top].sort(), ['CHANGELOG.md', 'LICENSE', 'README.md', 'asm', 'bin', 'dist', 'examples', 'package.json']);
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('dist/explore/explore-worker.js'));
    assert.ok(!files.some((f) => f.startsWith('dist/') && f.endsWith('.ts') && !f.endsWith('.d.ts')));
  });

  it('is built from the checkout as it is, and says so in dist/sources.json (what the launcher checks)', () => {
    assert.deepEqual(JSON.parse(readFileSync(join(ROOT, SOURCES_RECORD), 'utf8')), { digest: sourceDigest(ROOT) });
  });

  it('installs without tsx or typescript', () => {
    assert.equal(sh(project, 'node', ['-e', "import.meta.resolve('tsx')", '--input-type=module']).status, 1);
    assert.equal(sh(project, 'node', ['-e', "import.meta.resolve('typescript')", '--input-type=module']).status, 1);
  });

  it('runs a bundled op with `npx rseq-emu run`', () => {
    const r = sh(project, 'npx', ['--no-install', 'rseq-emu', 'run', 'node_modules/rseq-emu/asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '5', '--event', 'preempt@.Lcounter_add_start', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.status, 'returned');
    assert.deepEqual(j.events.map((e: { outcome: string }) => e.outcome), ['aborted']);
    assert.deepEqual(j.memory.counters.u64, ['5', '0']);
  });

  it('finds the bug of a bundled scenario with `npx rseq-emu explore`', () => {
    const r = sh(project, 'npx', ['--no-install', 'rseq-emu', 'explore', 'node_modules/rseq-emu/examples/scenarios/counter-commit-outside.json', '--stop-at-first', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.verdict, 'fail');
    assert.equal(j.violations[0].kind, 'not-serializable');
  });

  it('keeps the assembled image between runs, and a run from the cache reports the same', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rseq-emu-cache-'));
    try {
      const explore = () => sh(project, 'npx', ['--no-install', 'rseq-emu', 'explore', 'node_modules/rseq-emu/examples/scenarios/counter-commit-outside.json', '--stop-at-first', '--json'], 120, { RSEQ_EMU_CACHE_DIR: cache });
      const first = explore();
      assert.equal(readdirSync(cache).filter((f) => f.endsWith('.json')).length, 1);
      const second = explore();
      const strip = (out: string) => ({ ...JSON.parse(out), seconds: 0 });
      assert.deepEqual(strip(second.stdout), strip(first.stdout));
      assert.equal(second.status, 1);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('explores a whole bundled space past the pilot on worker threads of compiled code', () => {
    const script = `import { loadScenario } from 'rseq-emu';
import { exploreParallel } from './node_modules/rseq-emu/dist/explore/explore-workers.js';
const s = await loadScenario('node_modules/rseq-emu/examples/scenarios/counter.json');
const r = await exploreParallel(s, { workers: 2, pilotSeconds: 0, awaitWorkers: true, preemptions: 1 });
console.log(JSON.stringify({ workers: r.workers, verdict: r.verdict, complete: r.complete }));`;
    writeFileSync(join(project, 'workers.mjs'), script);
    const r = sh(project, 'node', ['workers.mjs']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { workers: 2, verdict: 'pass', complete: true });
  });

  it('imports the library and its testing entry from a plain .mjs file', () => {
    writeFileSync(join(project, 'use.mjs'), `import { assembleSource, findSymbol, Machine } from 'rseq-emu';
import { expectSerializable } from 'rseq-emu/testing';
const image = await assembleSource('f: movq $41, %rax\\n incq %rax\\n ret\\n', 'f.s');
const m = Machine.create(image);
const r = m.call(findSymbol(image, 'f').address, []);
m.close();
console.log(String(r.rax), typeof expectSerializable);`);
    const r = sh(project, 'node', ['use.mjs']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '42 function');
  });

  it('tells a require() user to import it instead', () => {
    const r = sh(project, 'node', ['-e', "require('rseq-emu')"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /rseq-emu is an ES module: use `import/);
  });

  it('type-checks a TypeScript consumer against the shipped declarations, and rejects a wrong use', () => {
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
      files: ['consumer.ts'],
    }));
    const good = `import { assembleSource, findSymbol, Machine, type Address, type ExploreResult } from 'rseq-emu';
import { expectSerializable } from 'rseq-emu/testing';
const image = await assembleSource('f: ret\\n', 'f.s');
const entry: Address | undefined = findSymbol(image, 'f')?.address;
const m = Machine.create(image);
if (entry !== undefined) m.call(entry, []);
const r: Promise<ExploreResult> = expectSerializable('s.json');
void r;
`;
    writeFileSync(join(project, 'consumer.ts'), good);
    const ok = sh(project, 'node', [TSC, '-p', '.']);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    writeFileSync(join(project, 'consumer.ts'), `${good}const wrong: number = findSymbol(image, 'f')!.address;\n`);
    const bad = sh(project, 'node', [TSC, '-p', '.']);
    assert.equal(bad.status, 2);
    assert.match(bad.stdout, /consumer\.ts\(\d+,\d+\): error TS2322: Type 'bigint' is not assignable to type 'number'/);
  });
});

// Which code bin/rseq-emu.js runs: in a checkout, the compiled dist/ when it is the checkout's sources
// compiled and the TypeScript sources through tsx otherwise (so tests never run a stale build); the
// compiled dist/ in an installed package. Checked on a copy of the launcher (and of the digest script
// it checks dist/ with) next to stub entry points that say which one ran, and that it asks that entry for the command's
// V8 flags (src/cli/v8-flags.ts) and sets them before running the command.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCES_RECORD, sourceDigest } from '../../scripts/source-digest.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const stub = (which: string) =>
  `export async function runCli(args${which === 'src' ? ': string[]' : ''}) { process.stdout.write('${which} ' + args.join(' ')); return 0; }\n` +
  `export function v8FlagsFor(args${which === 'src' ? ': string[]' : ''}) { process.stdout.write('flags for ' + args.join(' ') + '; '); return ['--max-inlined-bytecode-size-cumulative=230']; }\n`;

interface Layout {
  src?: boolean;
  dist?: boolean;
  tsx?: boolean;
  /** What dist/sources.json says dist/ was built from: the stub sources, other sources, or nothing. */
  built?: 'these sources' | 'other sources';
}

describe('the launcher bin/rseq-emu.js', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  function launch(layout: Layout, env: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-launcher-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(ROOT, 'bin/rseq-emu.js'), join(dir, 'bin/rseq-emu.js'));
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(ROOT, 'scripts/source-digest.mjs'), join(dir, 'scripts/source-digest.mjs'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    if (layout.src) {
      mkdirSync(join(dir, 'src/cli'), { recursive: true });
      writeFileSync(join(dir, 'src/cli/main.ts'), stub('src'));
    }
    if (layout.dist) {
      mkdirSync(join(dir, 'dist/cli'), { recursive: true });
      writeFileSync(join(dir, 'dist/cli/main.js'), stub('dist'));
    }
    if (layout.built) {
      const digest = layout.built === 'these sources' ? sourceDigest(dir) : sourceDigest(ROOT);
      writeFileSync(join(dir, SOURCES_RECORD), JSON.stringify({ digest }));
    }
    if (layout.tsx) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const env0 = { ...process.env };
    delete env0.RSEQ_EMU_DIST;
    delete env0.NODE_OPTIONS; // mocha's tsx must not leak into the child
    const r = spawnSync(process.execPath, [join(dir, 'bin/rseq-emu.js'), '--help'], { encoding: 'utf8', timeout: 30_000, env: { ...env0, ...env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('runs the TypeScript sources through tsx in a checkout whose dist/ does not say what it was built from', () => {
    assert.deepEqual(launch({ src: true, dist: true, tsx: true }), { code: 0, stdout: 'flags for --help; src --help', stderr: '' });
  });

  it('runs the TypeScript sources through tsx in a checkout whose dist/ was built from other sources', () => {
    assert.deepEqual(launch({ src: true, dist: true, tsx: true, built: 'other sources' }), { code: 0, stdout: 'flags for --help; src --help', stderr: '' });
  });

  it('runs the compiled dist/ in a checkout whose dist/ was built from these very sources', () => {
    assert.deepEqual(launch({ src: true, dist: true, tsx: true, built: 'these sources' }), { code: 0, stdout: 'flags for --help; dist --help', stderr: '' });
  });

  it('runs the TypeScript sources when RSEQ_EMU_DIST=0, even when dist/ is current', () => {
    assert.deepEqual(launch({ src: true, dist: true, tsx: true, built: 'these sources' }, { RSEQ_EMU_DIST: '0' }), { code: 0, stdout: 'flags for --help; src --help', stderr: '' });
  });

  it('runs the compiled dist/ when there is no src/ (an installed package)', () => {
    assert.deepEqual(launch({ dist: true, tsx: true }), { code: 0, stdout: 'flags for --help; dist --help', stderr: '' });
  });

  it('runs the compiled dist/ when tsx cannot be found', () => {
    assert.deepEqual(launch({ src: true, dist: true }), { code: 0, stdout: 'flags for --help; dist --help', stderr: '' });
  });

  it('runs the compiled dist/ in a checkout when RSEQ_EMU_DIST=1', () => {
    assert.deepEqual(launch({ src: true, dist: true, tsx: true }, { RSEQ_EMU_DIST: '1' }), { code: 0, stdout: 'flags for --help; dist --help', stderr: '' });
  });

  it('says to build, and exits 2, when it has neither tsx nor dist/', () => {
    const r = launch({ src: true });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'rseq-emu: dist/ is missing: run `npm run build` (or `npm install` tsx to run the sources)\n');
  });
});

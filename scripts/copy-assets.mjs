// Part of `npm run build`: copies the files tsc does not emit (assembly the library assembles at
// run time, the CommonJS stub for `require`) from src/ to the same place under dist/, records the
// digest of the sources compiled in dist/sources.json if they did not change while tsc ran (for the
// launcher, bin/rseq-emu.js; source-digest.mjs), then writes
// dist/build-id.json, a hash of everything under dist/: the image cache (src/asm/image-cache.ts)
// keys assembled images by it, so a different build never reads another build's images.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { SOURCES_RECORD, recordSources } from './source-digest.mjs';

const ASSETS = /\.(s|cjs)$/;
function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, e.name);
    if (e.isDirectory()) walk(from);
    else if (ASSETS.test(e.name)) {
      const to = join('dist', relative('src', from));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
    }
  }
}
walk('src');
if (!recordSources('.')) {
  process.stderr.write(`build: the sources changed while they were compiled (or no digest was noted before): ${SOURCES_RECORD} not written, so a checkout runs the sources until the next build\n`);
}

const hash = createHash('sha256');
function digest(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) digest(path);
    else if (path !== join('dist', 'build-id.json')) hash.update(path).update('\0').update(readFileSync(path));
  }
}
digest('dist');
writeFileSync(join('dist', 'build-id.json'), `${JSON.stringify({ id: hash.digest('hex').slice(0, 32) })}\n`);

// The digest of what `npm run build` compiles: every file under src/ and the two tsconfig files,
// by path and content. The build records it in dist/sources.json; the launcher compares it with the
// checkout's own to know whether dist/ is exactly these sources compiled (then it runs dist/, with
// no TypeScript loader) or stale (then it runs the sources through tsx). The build notes the digest
// before compiling (`node scripts/source-digest.mjs --before`) and records it after only if the
// sources are still the same: a source edited while tsc ran is then not taken as compiled.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

/** The hex digest of the build's inputs under `root`; a missing input counts as absent, not as an error. */
export function sourceDigest(root) {
  const hash = createHash('sha256');
  const add = (rel) => {
    let entries;
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch (e) {
      if (e.code !== 'ENOTDIR') return; // missing
      const bytes = readFileSync(join(root, rel));
      hash.update(`${rel}\0${bytes.length}\0`).update(bytes);
      return;
    }
    for (const e of entries.map((d) => d.name).sort()) add(join(rel, e));
  };
  INPUTS.forEach(add);
  return hash.digest('hex');
}

/** The file in which `npm run build` records the digest of the sources it compiled. */
export const SOURCES_RECORD = join('dist', 'sources.json');

/** Where the build notes the digest before it compiles (removed when the record is made). */
export const SOURCES_BEFORE = join('dist', '.sources-before.json');

/** Notes the digest of the sources under `root` as they are before compiling. */
export function noteSourcesBefore(root) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, SOURCES_BEFORE), `${JSON.stringify({ digest: sourceDigest(root) })}\n`);
}

/**
 * After compiling: records the digest in SOURCES_RECORD when the sources are the ones noted before,
 * and returns whether it did (no note, or sources changed since, records nothing).
 */
export function recordSources(root) {
  let before = null;
  try {
    before = JSON.parse(readFileSync(join(root, SOURCES_BEFORE), 'utf8')).digest;
  } catch {
    // no note: a compile not run by `npm run build`
  }
  rmSync(join(root, SOURCES_BEFORE), { force: true });
  const digest = sourceDigest(root);
  if (before !== digest) return false;
  writeFileSync(join(root, SOURCES_RECORD), `${JSON.stringify({ digest })}\n`);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--before') noteSourcesBefore('.');

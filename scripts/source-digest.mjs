// The digest of what `npm run build` compiles: every file under src/ and the two tsconfig files,
// by path and content. The build records it in dist/sources.json; the launcher compares it with the
// checkout's own to know whether dist/ is exactly these sources compiled (then it runs dist/, with
// no TypeScript loader) or stale (then it runs the sources through tsx).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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

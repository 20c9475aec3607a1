// Assembled images kept on disk between runs, addressed by content: the key hashes the source text,
// its file name, everything else the image depends on (`inputs`), and the build of rseq-emu that
// assembled it, so a changed source, option or rseq-emu version is a different key and never a stale
// hit. Start-up of a small `explore` was a third assembling (Keystone's loading and encoding, the
// libc model): a hit skips all of it.
//
// Only a built package has a build id (`dist/build-id.json`, written by `npm run build`); run from
// the TypeScript sources there is none, and no cache, so a checkout never runs stale code's images.
// The cache is an optimisation only: any failure to read or write it is ignored. Files go to
// $RSEQ_EMU_CACHE_DIR, else $XDG_CACHE_HOME/rseq-emu, else ~/.cache/rseq-emu; RSEQ_EMU_CACHE=off
// turns it off. At most MAX_FILES images are kept (the least recently written go first).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, encodeImage, IMAGE_FORMAT } from './image-codec.js';
import type { Image } from './image.js';

const MAX_FILES = 256;
/** Images with more bytes than this are not cached (writing them would cost more than assembling). */
const MAX_IMAGE_BYTES = 4 * 2 ** 20;

export interface ImageCache {
  dir: string;
  get(key: string): Image | null;
  put(key: string, image: Image): void;
}

/** The build id of the code running, or null (run from sources). */
function buildId(): string | null {
  try {
    const id = (JSON.parse(readFileSync(new URL('../build-id.json', import.meta.url), 'utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.RSEQ_EMU_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rseq-emu');
}

/** The key of an image assembled from `source` (named `file`) with `inputs` by build `build`. */
export function imageKey(build: string, source: string, file: string, inputs: unknown): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([IMAGE_FORMAT, build, file, inputs], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Map ? [...v] : v)));
  h.update('\0').update(source);
  return h.digest('hex');
}

const imageSize = (image: Image): number => image.sections.reduce((n, s) => n + s.bytes.length, 0) + (image.tls?.bytes.length ?? 0);

/** A cache in `dir`. */
export function openImageCache(dir: string): ImageCache {
  const path = (key: string) => join(dir, `${key}.json`);
  return {
    dir,
    get(key) {
      try {
        return decodeImage(readFileSync(path(key), 'utf8'));
      } catch {
        return null;
      }
    },
    put(key, image) {
      if (imageSize(image) > MAX_IMAGE_BYTES) return;
      try {
        mkdirSync(dir, { recursive: true });
        // Written whole under a private name, then renamed: a reader sees the old file or the new one.
        const tmp = `${path(key)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        writeFileSync(tmp, encodeImage(image));
        renameSync(tmp, path(key));
        prune(dir);
      } catch {
        // a read-only or full disk: the next run assembles again
      }
    },
  };
}

function prune(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length <= MAX_FILES) return;
  const dated = files.map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { f } of dated.slice(0, files.length - MAX_FILES)) unlinkSync(join(dir, f));
}

let shared: { cache: ImageCache; build: string } | null | undefined;

/** The process's cache and the build id that keys it, or null when there is none (see the file comment). */
export function processImageCache(): { cache: ImageCache; build: string } | null {
  if (shared !== undefined) return shared;
  const build = process.env.RSEQ_EMU_CACHE === 'off' ? null : buildId();
  shared = build === null ? null : { cache: openImageCache(cacheDir()), build };
  return shared;
}

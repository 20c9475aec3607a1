// An assembled image as text and back, for the image cache (image-cache.ts). Images are plain data
// — bigints, byte arrays, one Map, optional fields — so a tagged JSON keeps every value exactly:
// decodeImage(encodeImage(x)) is deep-equal to x (a test checks every bundled source).
import type { Image } from './image.js';

/** Bumped whenever the Image type changes shape, so older cache files are never read as images. */
export const IMAGE_FORMAT = 1;

function replace(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $b: value.toString(16) };
  if (value instanceof Uint8Array) return { $u8: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Map) return { $map: [...value] };
  if (value === undefined) return { $undef: 1 };
  return value;
}

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== 'object') return value;
  const t = value as Record<string, unknown>;
  if (typeof t.$b === 'string') return t.$b.startsWith('-') ? -BigInt(`0x${t.$b.slice(1)}`) : BigInt(`0x${t.$b}`);
  if (typeof t.$u8 === 'string') return new Uint8Array(Buffer.from(t.$u8, 'base64'));
  if (Array.isArray(t.$map)) return new Map((t.$map as [unknown, unknown][]).map(([k, v]) => [revive(k), revive(v)]));
  if (t.$undef === 1) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = revive(v);
  return out;
}

export function encodeImage(image: Image): string {
  return JSON.stringify({ format: IMAGE_FORMAT, image }, replace);
}

/** The image in `text`, or null when it is not an image of this format (a foreign or damaged file). */
export function decodeImage(text: string): Image | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { format?: unknown }).format !== IMAGE_FORMAT) return null;
  const image = revive((parsed as { image: unknown }).image) as Image;
  const wellFormed = typeof image === 'object' && image !== null && typeof image.file === 'string' && [image.sections, image.symbols, image.lines, image.unresolved].every(Array.isArray);
  return wellFormed ? image : null;
}

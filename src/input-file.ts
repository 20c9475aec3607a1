// Reading a user's input file: only regular files (a FIFO or a device would block or never end),
// and only up to a size limit checked before anything is read.
import { stat, readFile } from 'node:fs/promises';
import { RseqEmuError } from './errors.js';

export async function readInputFile(path: string, what: string, maxBytes: number): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    throw new RseqEmuError('INPUT', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (info.isDirectory()) throw new RseqEmuError('INPUT', `cannot read ${path}: it is a directory`);
  if (!info.isFile()) throw new RseqEmuError('INPUT', `cannot read ${path}: not a regular file (${what} must be a regular file)`);
  if (info.size > maxBytes) throw new RseqEmuError('INPUT', `${path}: ${what} of ${info.size} bytes is over the limit of ${maxBytes} bytes`);
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new RseqEmuError('INPUT', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

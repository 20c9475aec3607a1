// Real tools the tests compare with (gdb, readelf, objdump, gcc): a test that needs a missing one skips.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const found = new Map<string, boolean>();
export function hasTool(name: string): boolean {
  if (!found.has(name)) found.set(name, spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0);
  return found.get(name)!;
}

// Golden-text comparison: REGENERATE_GOLDEN=1 rewrites the file on purpose instead of comparing.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function matchesGolden(name: string, actual: string): void {
  const path = fileURLToPath(new URL(`./${name}`, import.meta.url));
  if (process.env.REGENERATE_GOLDEN === '1') {
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `golden file ${name} is missing: run with REGENERATE_GOLDEN=1 and review it`);
  assert.equal(actual, readFileSync(path, 'utf8'));
}

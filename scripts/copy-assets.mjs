// Part of `npm run build`: copies the files tsc does not emit (assembly the library assembles at
// run time, the CommonJS stub for `require`) from src/ to the same place under dist/.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

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

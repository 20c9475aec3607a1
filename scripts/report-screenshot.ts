// Makes the README's pictures of an HTML report from a real exploration: explores (PCT) the broken
// counter (its commit store after the post-commit label) and photographs the page in the light
// and the dark colour scheme.   node --import tsx scripts/report-screenshot.ts [OUT_DIR]
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../src/cli/main.js';
import { browserMissing, openBrowser } from '../test/support/browser.js';

const out = resolve(process.argv[2] ?? 'docs');
const missing = browserMissing();
if (missing) throw new Error(missing);
// A plain name in the working directory, so the command the page shows reads as a user types it.
const name = 'report.html';
const html = resolve(name);
if (existsSync(html)) throw new Error(`${html} exists: this script writes (and then removes) a file of that name`);
try {
  const code = await runCli(['explore', 'examples/scenarios/counter-commit-outside.json', '--mode', 'pct', '--workers', '1', '--html', name], { out: () => {}, err: (s) => process.stderr.write(s), progress: () => {} });
  if (code !== 1) throw new Error(`explore exited ${code}, expected 1 (violations found)`);
  for (const scheme of ['light', 'dark'] as const) {
    const browser = await openBrowser(scheme);
    try {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1280, height: 1700 });
      await page.goto(pathToFileURL(html).href);
      // Open the first violation whose timeline has an abort (else the first), and show one block's instructions.
      const aborting = page.locator('section.violation', { has: page.locator('.marker.abort') });
      const shown = (await aborting.count()) ? aborting.first() : page.locator('section.violation').first();
      const id = await shown.getAttribute('id');
      await page.locator(`button[aria-controls="${id}"]`).click();
      await shown.locator('.block').nth(1).click();
      const file = join(out, scheme === 'light' ? 'report.png' : 'report-dark.png');
      await page.screenshot({ path: file, fullPage: false });
      process.stdout.write(`${file}\n`);
    } finally {
      await browser.close();
    }
  }
} finally {
  rmSync(html, { force: true });
}

// Makes the README's pictures of an HTML report from a real exploration: explores the broken
// counter (its commit store after the post-commit label) and photographs the page in the light
// and the dark colour scheme.   node --import tsx scripts/report-screenshot.ts [OUT_DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../src/cli/main.js';
import { browserMissing, openBrowser } from '../test/support/browser.js';

const out = resolve(process.argv[2] ?? 'docs');
const missing = browserMissing();
if (missing) throw new Error(missing);
const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-shot-'));
try {
  const html = join(dir, 'report.html');
  const code = await runCli(['explore', 'examples/scenarios/counter-commit-outside.json', '--workers', '1', '--html', html], { out: () => {}, err: (s) => process.stderr.write(s), progress: () => {} });
  if (code !== 1) throw new Error(`explore exited ${code}, expected 1 (violations found)`);
  for (const scheme of ['light', 'dark'] as const) {
    const browser = await openBrowser(scheme);
    try {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1280, height: 1700 });
      await page.goto(pathToFileURL(html).href);
      // Show a block's instructions, as a reader hovering over the timeline would see them.
      await page.locator('#timeline-0 .block').nth(1).click();
      const file = join(out, scheme === 'light' ? 'report.png' : 'report-dark.png');
      await page.screenshot({ path: file, fullPage: false });
      process.stdout.write(`${file}\n`);
    } finally {
      await browser.close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

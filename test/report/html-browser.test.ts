// The HTML report in a real browser (Debian's chromium, headless, through playwright-core; skipped
// with the reason when it is missing): the page loads without console errors, the outcome map's
// colours are the model's outcomes, a violation's timeline opens on click with the abort marker at
// the instruction the kernel aborted, blocks answer the keyboard, and the screenshot is not blank.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { browserMissing, openBrowser } from '../support/browser.js';
import { ROOT } from '../support/tools.js';
import { cli, cliBatch } from '../support/cli-batch.js';

const FIXTURE = 'test/report/fixtures/tally-gives-up.json';
const TWIN = 'examples/scenarios/counter-commit-outside.json';

/**
 * Checks every cell of the page's first outcome map against `run SCENARIO --event SPEC --json` (the
 * cell names the event it ran): its colour must be the legend's colour for the outcome that run
 * reports. Returns the number of rows inside the section and the outcomes seen.
 */
async function mapMatchesRuns(page: Page, scenario: string): Promise<{ inside: number; outcomes: string[] }> {
  const rows = await page.locator('table.outcome-map[data-section="0"] tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      inside: tr.classList.contains('insn'),
      cells: [...tr.querySelectorAll('td.cell')].map((td) => ({ spec: (td as HTMLElement).dataset.spec!, colour: getComputedStyle(td).backgroundColor })),
    })),
  );
  const swatch = Object.fromEntries(
    await page.locator('.legend .sw.cell').evaluateAll((spans) => spans.map((s) => [s.classList[2]!, getComputedStyle(s).backgroundColor])),
  ) as Record<string, string>;
  assert.deepEqual(rows.map((r) => r.inside), [...rows.slice(0, -1).map(() => true), false], 'the section, then one context row');
  const seen = new Set<string>();
  const cells = rows.flatMap((row) => row.cells);
  assert.equal(cells.length, 3 * rows.length);
  const runs = await cliBatch(cells.map((cell) => ['run', scenario, '--event', cell.spec, '--json']));
  cells.forEach((cell, i) => {
    const outcome = JSON.parse(runs[i]!.out).events.find((e: { spec: string }) => e.spec === cell.spec)?.outcome ?? 'unreached';
    assert.equal(cell.colour, swatch[outcome], `${cell.spec}: ${outcome}`);
    seen.add(outcome);
  });
  return { inside: rows.filter((r) => r.inside).length, outcomes: [...seen].sort() };
}
/** Where the test leaves its screenshots (a CI artifact): RSEQ_EMU_TEST_OUTPUT, else .scratch/. */
const OUTPUT = process.env.RSEQ_EMU_TEST_OUTPUT ?? join(ROOT, '.scratch', 'test-output', 'report');

describe('the HTML report in a browser', function () {
  this.timeout(240_000);
  const missing = browserMissing();
  let dir: string;
  let url: string;
  let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;
  let page: Page;
  const problems: string[] = [];

  before(async function () {
    if (missing) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'rseq-emu-browser-'));
    const file = join(dir, 'explore.html');
    const r = await cli('explore', FIXTURE, '--preemptions', '1', '--workers', '1', '--html', file);
    assert.equal(r.code, 1, r.err);
    url = pathToFileURL(file).href;
    browser = await openBrowser('light');
    page = await browser.context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (q) => !q.url().startsWith('file:') && !q.url().startsWith('blob:') && problems.push(`request to ${q.url()}`));
    await page.goto(url);
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads with no console error and no network request', async () => {
    await page.waitForLoadState('load');
    assert.deepEqual(problems, []);
  });

  it('shows one outcome-map row per instruction of the section, in the colour of the outcome `run --event … --json` reports', async () => {
    // cmpl, jne, movq, addq, movq: the section of tally-gives-up.s; then the post-commit instruction.
    assert.deepEqual(await mapMatchesRuns(page, FIXTURE), { inside: 5, outcomes: ['aborted', 'cleared'] });
  });

  it('does the same for the bundled broken twin counter-commit-outside.json, with no console error', async () => {
    const file = join(dir, 'twin.html');
    const r = await cli('explore', TWIN, '--preemptions', '1', '--workers', '1', '--html', file);
    assert.equal(r.code, 1, r.err);
    const twin = await browser!.context.newPage();
    const errors: string[] = [];
    twin.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    twin.on('pageerror', (e) => errors.push(e.message));
    try {
      await twin.goto(pathToFileURL(file).href);
      // cmpl, jne, movq, addq inside; the commit store sits at the post-commit address, outside.
      assert.deepEqual(await mapMatchesRuns(twin, TWIN), { inside: 4, outcomes: ['aborted', 'cleared'] });
      assert.deepEqual(errors, []);
    } finally {
      await twin.close();
    }
  });

  it('opens a violation on click, its timeline holding the abort marker at the instruction where the kernel aborted', async () => {
    const picks = page.locator('button.violation-pick');
    const last = (await picks.count()) - 1;
    await picks.nth(last).click();
    const section = page.locator(`#violation-${last}`);
    assert.equal(await section.isVisible(), true);
    assert.equal(await page.locator('#violation-0').isVisible(), false);
    const replay = await section.locator('input').inputValue();
    const schedule = /--schedule '([^']*)'/.exec(replay)![1]!;
    const events = JSON.parse((await cli('run', FIXTURE, '--schedule', schedule, '--json')).out).events as { ip: string; before: number; outcome: string; resumeIp: string }[];
    const aborted = events.filter((e) => e.outcome === 'aborted');
    assert.ok(aborted.length > 0, 'the violation replays with an abort');
    const markers = section.locator('.marker.abort');
    assert.equal(await markers.count(), aborted.length);
    const marker = markers.first();
    assert.equal(await marker.isVisible(), true);
    assert.deepEqual([await marker.getAttribute('data-ip'), Number(await marker.getAttribute('data-at')), await marker.getAttribute('data-resume')], [aborted[0]!.ip, aborted[0]!.before, aborted[0]!.resumeIp]);
    // Drawn where the instructions before it end and the handler's block begins.
    const x = Number(await marker.locator('line').getAttribute('x1'));
    const tid = await marker.getAttribute('data-tid');
    const next = section.locator(`.block[data-tid="${tid}"][data-first="${aborted[0]!.before + 1}"] rect`);
    assert.equal(Math.abs(Number(await next.getAttribute('x')) - x) < 0.2, true);
  });

  it("shows a block's instructions when it is focused by keyboard and Enter is pressed", async () => {
    const section = page.locator('section.violation:not([hidden])');
    const block = section.locator('.block').first();
    await block.focus();
    await page.keyboard.press('Enter');
    const text = await section.locator('.block-detail').textContent();
    const first = await block.getAttribute('data-first');
    assert.match(text ?? '', new RegExp(`^T\\d+ on cpu\\d, instructions #${first}–`));
    assert.match(text ?? '', new RegExp(`#${first}  0x[0-9a-f]+ <`));
  });

  it('writes a screenshot that is not blank, in the light and the dark colour scheme', async () => {
    mkdirSync(OUTPUT, { recursive: true });
    const light = join(OUTPUT, 'explore-light.png');
    await page.screenshot({ path: light, fullPage: true });
    const dark = await openBrowser('dark');
    let darkBackground: string;
    try {
      const p = await dark.context.newPage();
      await p.goto(url);
      darkBackground = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await p.screenshot({ path: join(OUTPUT, 'explore-dark.png'), fullPage: true });
    } finally {
      await dark.close();
    }
    assert.notEqual(darkBackground, await page.evaluate(() => getComputedStyle(document.body).backgroundColor));
    // Count the colours the browser itself decodes from the PNG: a blank page has one.
    const png = readFileSync(light).toString('base64');
    const blank = await browser!.context.newPage();
    try {
      const colours = await blank.evaluate(async (data) => {
        const img = new Image();
        img.src = `data:image/png;base64,${data}`;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const g = c.getContext('2d')!;
        g.drawImage(img, 0, 0);
        const px = g.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set<number>();
        for (let i = 0; i < px.length; i += 4 * 7) seen.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
        return { size: [img.width, img.height], colours: seen.size };
      }, png);
      assert.ok(colours.size[0]! >= 1000 && colours.size[1]! > 1000, `screenshot ${colours.size.join('×')}`);
      assert.ok(colours.colours > 50, `${colours.colours} colours`);
    } finally {
      await blank.close();
    }
  });
});

// The HTML report as a file: self-contained, its outcome maps the model's own outcomes (compared
// with `run --event … --json`), check's findings at their instructions and as SARIF, explore's
// heat and violations. The page in a real browser is html-browser.test.ts.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRseqTables } from '../../src/abi/tables.js';
import { explore } from '../../src/explore/explorer.js';
import { exploreParallel } from '../../src/explore/explore-workers.js';
import { parseProfile } from '../../src/kernel/profile.js';
import { insideSection } from '../../src/kernel/rseq-fixup.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { loadProgram } from '../../src/program.js';
import { armedSectionMaps } from '../../src/report/html/outcome-data.js';
import { esc } from '../../src/report/html/page.js';
import { timelineOf } from '../../src/report/html/timeline-data.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { hex } from '../../src/types.js';
import { cli, cliBatch } from '../support/cli-batch.js';

const FIXTURE = 'test/report/fixtures/tally-gives-up.json';
const BROKEN = 'asm/counter_add.bug-commit-outside.s';
const CALL = ['--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '5'];

/** The rows of a table of the page: each row's attributes and its cells' attributes. */
function rowsOf(html: string, table: RegExp): { attrs: string; cells: Record<string, string>[] }[] {
  const body = table.exec(html)?.[0] ?? '';
  return [...body.matchAll(/<tr ([^>]*)>([\s\S]*?)<\/tr>/g)].map((m) => ({
    attrs: m[1]!,
    cells: [...m[2]!.matchAll(/<td ([^>]*)>/g)].map((c) => Object.fromEntries([...c[1]!.matchAll(/([a-z-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]))),
  }));
}
const attr = (attrs: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(attrs)?.[1];

describe('the HTML report (--html FILE)', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'rseq-emu-html-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('run --html', () => {
    let html: string;
    before(async () => {
      const r = await cli('run', BROKEN, ...CALL, '--html', join(dir, 'run.html'));
      assert.equal(r.code, 0, r.err);
      html = readFileSync(join(dir, 'run.html'), 'utf8');
    });

    it('writes one self-contained page: no external script, style, image, font or link', () => {
      assert.match(html, /^<!doctype html>/);
      assert.doesNotMatch(html, /\ssrc=|<link|@import|url\(|https?:\/\/(?!json\.schemastore)/);
      assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    });

    it('keeps the text report as it was: no trace unless --trace', async () => {
      const r = await cli('run', BROKEN, ...CALL, '--html', join(dir, 'again.html'));
      assert.doesNotMatch(r.out, /#1 /);
    });

    it("gives the outcome map one row per instruction of the section, and the post-commit instruction as context", async () => {
      const image = await loadProgram(BROKEN);
      const cs = readRseqTables(image).sections[0]!;
      const inside = image.lines.filter((l) => l.kind === 'instruction' && insideSection(l.address, cs)).map((l) => hex(l.address));
      const rows = rowsOf(html, /<table class="outcome-map" data-section="0">[\s\S]*?<\/table>/);
      assert.deepEqual(rows.filter((r) => r.attrs.startsWith('class="insn')).map((r) => attr(r.attrs, 'data-address')), inside);
      assert.deepEqual(rows.filter((r) => r.attrs.startsWith('class="context')).map((r) => attr(r.attrs, 'data-address')), [hex(cs.postCommitIp)]);
    });

    it('colours every cell with the outcome `run --event KIND@ADDRESS --json` reports there', async () => {
      const rows = rowsOf(html, /<table class="outcome-map" data-section="0">[\s\S]*?<\/table>/);
      const seen = new Set<string>();
      const cells = rows.flatMap((row) => row.cells.filter((c) => c['data-kind']));
      assert.equal(cells.length, 3 * rows.length);
      // Each cell names the event its run had: the same event given to `run` must give its outcome.
      const runs = await cliBatch(cells.map((c) => ['run', BROKEN, ...CALL, '--event', c['data-spec']!, '--json']));
      cells.forEach((cell, i) => {
        const event = JSON.parse(runs[i]!.out).events[0];
        assert.equal(cell['data-outcome'], event?.outcome ?? 'unreached', cell['data-spec']);
        assert.match(cell.class!, new RegExp(`\\bcell ${cell['data-outcome']}\\b`));
        seen.add(cell['data-outcome']!);
      });
      assert.deepEqual([...seen].sort(), ['aborted', 'cleared']);
    });

    it('draws the run on a timeline with the abort marker before the instruction the event named', async () => {
      const r = await cli('run', 'asm/counter_add.s', ...CALL, '--event', 'migrate:1@.Lcounter_add_start+5', '--html', join(dir, 'abort.html'));
      assert.equal(r.code, 0, r.err);
      const page = readFileSync(join(dir, 'abort.html'), 'utf8');
      const abort = /<g class="marker abort"[^>]*>/.exec(page)?.[0] ?? '';
      assert.equal(attr(abort, 'data-ip'), '0x40001c');
      assert.equal(attr(abort, 'data-resume'), '0x403007');
      assert.match(page, /<g class="block[^"]*"[^>]*data-cpu="1"/);
    });

    it("marks a SIGSEGV where the kernel rejected the descriptor, with the kernel's reason", async () => {
      const r = await cli('run', 'asm/counter_add.bug-version-1.s', ...CALL, '--event', 'preempt@.Lcounter_add_start', '--html', join(dir, 'segv.html'));
      assert.equal(r.code, 1, r.err);
      const page = readFileSync(join(dir, 'segv.html'), 'utf8');
      const marker = /<g class="marker sigsegv"[^>]*><title>([^<]*)<\/title>/.exec(page);
      assert.ok(marker, 'a sigsegv marker');
      assert.match(marker[0], /data-ip="0x400017"/);
      assert.match(marker[1]!, /SIGSEGV for T1: descriptor version 1, expected 0/);
    });

    it('refuses a report it cannot write with one line and exit status 2', async () => {
      const r = await cli('run', 'asm/counter_add.s', ...CALL, '--html', join(dir, 'no-such-dir', 'r.html'));
      assert.equal(r.code, 2);
      assert.match(r.err, /^rseq-emu: cannot write the HTML report '.*no-such-dir\/r\.html': .*\n$/);
    });
  });

  describe('check --html', () => {
    let html: string;
    before(async () => {
      assert.equal((await cli('check', BROKEN, '--html', join(dir, 'check.html'))).code, 1);
      html = readFileSync(join(dir, 'check.html'), 'utf8');
    });

    it('puts each finding in the row after its instruction, with its rule and severity', async () => {
      const findings = JSON.parse((await cli('check', BROKEN, '--format', 'json')).out).findings as { rule: string; severity: string; address: string }[];
      assert.ok(findings.length > 0);
      for (const f of findings) {
        const row = new RegExp(`<tr class="[^"]*has-finding" id="a${f.address.slice(2)}"[^>]*>.*?</tr>\\n(<tr class="finding"[^>]*>.*?</tr>\\n)*?<tr class="finding" data-rule="${f.rule}" data-severity="${f.severity}">`);
        assert.match(html, row, `${f.rule} at ${f.address}`);
      }
    });

    it('embeds the same findings as the SARIF log check --format sarif prints', async () => {
      const embedded = JSON.parse(/<script type="application\/json" id="sarif-log">([\s\S]*?)<\/script>/.exec(html)![1]!);
      assert.deepEqual(embedded, JSON.parse((await cli('check', BROKEN, '--format', 'sarif')).out));
    });

    it("shows SIGSEGV with the kernel's reason in every cell when the descriptor's version is 1", async () => {
      const image = await loadProgram('asm/counter_add.bug-version-1.s');
      const [map] = armedSectionMaps(image, readRseqTables(image), parseProfile('linux'));
      assert.ok(map!.rows.length > 0);
      for (const row of map!.rows) for (const cell of Object.values(row.cells)) assert.deepEqual(cell, { outcome: 'sigsegv', reason: 'descriptor version 1, expected 0' });
    });

    it('escapes text from the input, so a label cannot inject markup', () => {
      assert.equal(esc(`<script>alert("x")</script>&'`), '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;');
    });
  });

  describe('explore --html', () => {
    let html: string;
    let json: { violationCount: number; violations: { schedule: string }[] };
    before(async () => {
      const [r, j] = await cliBatch([
        ['explore', FIXTURE, '--preemptions', '1', '--workers', '1', '--html', join(dir, 'explore.html')],
        ['explore', FIXTURE, '--preemptions', '1', '--workers', '1', '--json'],
      ]);
      assert.equal(r!.code, 1, r!.err);
      html = readFileSync(join(dir, 'explore.html'), 'utf8');
      json = JSON.parse(j!.out);
    });

    it('refuses a report folder that does not exist before it searches, with one line and exit status 2', async () => {
      const r = await cli('explore', FIXTURE, '--html', join(dir, 'missing', 'e.html'));
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(r.err, /^rseq-emu: cannot write the HTML report '.*missing\/e\.html': no such directory \(.*missing\)\n$/);
    });

    it('shows the first 20 violations in full and counts the rest', () => {
      assert.ok(json.violationCount > 20);
      assert.equal([...html.matchAll(/<button class="violation-pick"/g)].length, 20);
      assert.match(html, new RegExp(`… and ${json.violationCount - 20} more violations not shown`));
    });

    it('gives each shown violation the command that replays it', () => {
      const replays = [...html.matchAll(/<input id="replay-\d+" readonly value="([^"]*)">/g)].map((m) => m[1]!.replace(/&#39;/g, "'"));
      assert.deepEqual(replays, json.violations.slice(0, 20).map((v) => `rseq-emu run ${FIXTURE} --schedule '${v.schedule}'`));
    });

    it('marks in the outcome map how many schedules deviated before each instruction and how many of them failed', () => {
      const rows = rowsOf(html, /<table class="outcome-map" data-section="0">[\s\S]*?<\/table>/).filter((r) => r.attrs.startsWith('class="insn'));
      const heat = rows.map((r) => ({ schedules: Number(r.cells.find((c) => c.class === 'heat')!['data-schedules']), violations: Number(r.cells.find((c) => c.class === 'heat-bad')!['data-violations']) }));
      assert.ok(heat.every((h) => h.violations <= h.schedules));
      // Every deviation inside this section aborts into the handler that gives up: each one fails.
      assert.ok(heat.some((h) => h.schedules > 0 && h.violations === h.schedules));
    });
  });

  describe('step --html', () => {
    it("lists every stop with what the resume before it did, as step --json says, and the section's outcome map", async () => {
      const args = ['step', 'asm/counter_add.s', ...CALL];
      const r = await cli(...args, '--html', join(dir, 'step.html'));
      assert.equal(r.code, 1, r.err); // the livelock under Linux's stepping
      const page = readFileSync(join(dir, 'step.html'), 'utf8');
      const stops = JSON.parse((await cli(...args, '--json')).out).stops as { address: string; resume: string }[];
      const rows = [...page.matchAll(/<tr class="stop[^"]*" data-address="([^"]*)">.*?data-effect="([a-z]+)"/g)].map((m) => ({ address: m[1], resume: m[2] }));
      assert.deepEqual(rows, stops.map((s) => ({ address: s.address, resume: s.resume })));
      assert.ok(rows.some((s) => s.resume === 'aborted'));
      assert.match(page, /<table class="outcome-map" data-section="0">/);
    });
  });

  describe('the deviation heat of a search', () => {
    it('is the same on one thread as on two workers', async () => {
      const scenario = await loadScenario(FIXTURE);
      const image = await loadProgram(scenario.source);
      // Without the state cache, whose skipped schedules depend on which worker met a state first.
      const one = explore(image, scenario, { preemptions: 1, stateCache: false });
      const two = await exploreParallel(scenario, { preemptions: 1, workers: 2, pilotSeconds: 0, awaitWorkers: true, stateCache: false }, image);
      assert.ok(one.heat.length > 0);
      assert.deepEqual(two.heat, one.heat);
    });

    it('counts a schedule once at each instruction it deviated before', async () => {
      const scenario = await loadScenario(FIXTURE);
      const image = await loadProgram(scenario.source);
      const r = explore(image, scenario, { preemptions: 1 });
      // With one deviation per schedule, the counts add up to the schedules that have one.
      assert.equal(r.heat.reduce((n, h) => n + h.schedules, 0), r.schedules - 1);
    });
  });

  describe('timelines', () => {
    it('cut a run into blocks that hold each executed instruction once, in order', async () => {
      const scenario = await loadScenario(FIXTURE);
      const image = await loadProgram(scenario.source);
      const m = instantiate(image, scenario);
      try {
        const out = m.run({ schedule: parseSchedule('c0:6 T1:preempt c0:* c0:*'), trace: true });
        const t = timelineOf(image, out, scenario.cpus);
        assert.deepEqual(t.blocks.flatMap((b) => Array.from({ length: b.last - b.first + 1 }, (_, i) => b.first + i)), out.trace.map((s) => s.index));
        assert.ok(t.blocks.every((b, i) => i === 0 || b.tid !== t.blocks[i - 1]!.tid || b.cpu !== t.blocks[i - 1]!.cpu || b.first !== t.blocks[i - 1]!.last + 1));
        const abort = t.markers.find((k) => k.kind === 'abort')!;
        const event = out.events.find((e) => e.outcome === 'aborted')!;
        assert.deepEqual([abort.at, abort.ip, abort.resumeIp], [event.before, event.ip, event.resumeIp]);
      } finally {
        m.close();
      }
    });
  });
});

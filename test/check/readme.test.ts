// The README's `check` section says only what the code does: its rule table is the catalog, and
// its sample output is what the command prints.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RULES } from '../../src/check/finding.js';
import { runChecks } from '../../src/check/run-checks.js';
import { findingsText } from '../../src/report/findings-text.js';
import { bundled } from '../support/program.js';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const section = README.slice(README.indexOf('## Static checks: `rseq-emu check`'), README.indexOf('## Examples'));

describe('the README on check', () => {
  it('lists every rule of the catalog, in order, with its severity', () => {
    const rows = [...section.matchAll(/^\| `([a-z-]+\/[a-z-]+)` \| (error|warning|note) \|/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, Object.entries(RULES).map(([id, r]) => [id, r.severity]));
  });
  it('shows the output the command prints for its example', async () => {
    const shown = /\$ rseq-emu check (\S+)\n(.*)\n/.exec(section);
    assert.ok(shown, 'no example in the README');
    const text = findingsText(await runChecks(await bundled(shown[1]!.replace(/^asm\//, ''))));
    assert.equal(text, shown[2] + '\n');
  });
});

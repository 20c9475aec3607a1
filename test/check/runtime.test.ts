// The runtime half: every abort the kernel model performs is held against the image's tables.
import { strict as assert } from 'node:assert';
import { readRseqTables } from '../../src/abi/tables.js';
import { checkAborts } from '../../src/check/runtime.js';
import type { EventRecord } from '../../src/kernel/outcome.js';
import { address, bundled, inline, runEntry } from '../support/program.js';
import { lineOf, variant } from './support.js';

// The template's descriptor moved to .data and taken out of every table: only the code knows it.
const UNLISTED = variant(['\t.pushsection __rseq_cs, "aw"', '\t.pushsection .data, "aw"'], ['\t.quad .Lcs\n', '']);
const COUNTERS = { regions: [{ name: 'counters', size: 16 }] };

describe('checkAborts', function () {
  this.timeout(20_000);

  it('finds nothing when every abort goes through a listed descriptor to its abort_ip', async () => {
    const image = await bundled('counter_add.s');
    const r = runEntry(image, 'counter_add', ['counters', 5n], { ...COUNTERS, events: ['preempt@.Lcounter_add_start'] });
    try {
      assert.equal(r.outcome.events[0]!.outcome, 'aborted');
      assert.deepEqual(checkAborts(r.outcome, readRseqTables(image), image), []);
    } finally {
      r.machine.close();
    }
  });

  it('reports an abort through a descriptor that no table lists, at the interrupted instruction', async () => {
    const image = await inline(UNLISTED);
    const r = runEntry(image, 'f', ['counters', 5n], { ...COUNTERS, events: ['preempt@.Lstart'] });
    try {
      const [f, ...rest] = checkAborts(r.outcome, readRseqTables(image), image);
      assert.deepEqual(rest, []);
      assert.equal(f!.rule, 'runtime/unlisted-descriptor');
      assert.equal(f!.severity, 'error');
      assert.equal(f!.line, lineOf(UNLISTED, 'cmpl %fs:4(%rcx), %r8d'));
      assert.match(f!.message, /no rseq table lists/);
    } finally {
      r.machine.close();
    }
  });

  it("reports an abort that resumed somewhere other than its descriptor's abort_ip", async () => {
    const image = await bundled('counter_add.s');
    const tables = readRseqTables(image);
    const cs = tables.sections[0]!;
    const event: EventRecord = {
      kind: 'preempt', spec: 'preempt@.Lcounter_add_start', ip: cs.startIp, cpu: 0, tid: 1, before: 3,
      outcome: 'aborted', resumeIp: address(image, '.Lcounter_add_retry'), descriptor: cs.descriptor,
    };
    const [f] = checkAborts({ events: [event] }, tables, image);
    assert.equal(f?.rule, 'runtime/abort-target');
    assert.match(f!.message, /not at abort_ip/);
  });
});

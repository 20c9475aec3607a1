// Reports compared with reviewed, checked-in text.
import { readRseqTables } from '../../src/abi/tables.js';
import { disassemblyListing } from '../../src/report/listing.js';
import { runText } from '../../src/report/run-report.js';
import { bundled, runEntry } from '../support/program.js';
import { matchesGolden } from './golden.js';

describe('reports', () => {
  it('lists percpu_list.s with both critical sections marked', async () => {
    const image = await bundled('percpu_list.s');
    matchesGolden('percpu_list.disasm.txt', disassemblyListing(image, readRseqTables(image)));
  });
  it('traces counter_add through a migration, its abort and the retry on the new CPU', async () => {
    const image = await bundled('counter_add.s');
    const r = runEntry(image, 'counter_add', ['counters', 5n], { regions: [{ name: 'counters', size: 16 }], events: ['migrate:1@.Lcounter_add_start+5'], call: { trace: true } });
    r.machine.close();
    matchesGolden('counter_add.migrate.trace.txt', runText(image, readRseqTables(image), r.outcome));
  });
});

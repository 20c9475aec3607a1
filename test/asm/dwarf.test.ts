// What gcc -g output needs: LEB128 data and the location views GAS defines through `.loc`.
import { strict as assert } from 'node:assert';
import { leb128 } from '../../src/asm/layout.js';
import { findSymbol } from '../../src/asm/image.js';
import { inline } from '../support/program.js';

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('DWARF support', () => {
  // The examples of the DWARF 5 specification, section 7.6 (figures 7.3 and 7.4).
  const unsigned: [bigint, string][] = [[2n, '02'], [127n, '7f'], [128n, '8001'], [129n, '8101'], [130n, '8201'], [12857n, 'b964']];
  const signed: [bigint, string][] = [[2n, '02'], [-2n, '7e'], [127n, 'ff00'], [-127n, '817f'], [128n, '8001'], [-128n, '807f'], [129n, '8101'], [-129n, 'ff7e']];
  for (const [v, bytes] of unsigned) it(`encodes ${v} as ULEB128 ${bytes}, as the DWARF specification shows`, () => assert.equal(hexOf(leb128(v, false)), bytes));
  for (const [v, bytes] of signed) it(`encodes ${v} as SLEB128 ${bytes}, as the DWARF specification shows`, () => assert.equal(hexOf(leb128(v, true)), bytes));

  it('emits .uleb128 and .sleb128 of label differences, sized by their value', async () => {
    const image = await inline('.uleb128 2f - 1f\n .sleb128 -1\n1: .fill 200\n2:\n');
    assert.equal(hexOf(image.sections[0]!.bytes.subarray(0, 3)), 'c8017f');
  });

  it('numbers location views as GNU as does: 0 at a new address, one more for each further .loc there', async () => {
    const image = await inline(['f:', '.loc 1 1 1 view .LVU0', '.loc 1 2 1 view .LVU1', '.loc 1 3 1 view .LVU2', 'nop', '.loc 1 4 1 view .LVU3', '.loc 1 5 1 view .LVU4', 'nop', '.loc 1 6 1 view .LVU5', 'ret'].join('\n'));
    // Measured with GNU as 2.40 (`as -L`, then nm): 0 1 2 0 1 0.
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => findSymbol(image, `.LVU${i}`)!.address), [0n, 1n, 2n, 0n, 1n, 0n]);
  });
});

// Where `--event KIND@WHERE` can point: named and .L labels, numeric labels by number (and by
// definition when reused), with offsets; references such as 1f/1b are refused with the syntax to use.
import { strict as assert } from 'node:assert';
import { parseEvent } from '../../src/kernel/event-spec.js';
import { RseqEmuError } from '../../src/errors.js';
import { inline } from '../support/program.js';

const SOURCE = ['f: nop', '.Lin: nop', '5 : movl $1, %eax', ' nop', '1: nop', '1: movl $2, %eax', ' ret', ''].join('\n');
// f 0x400000, .Lin 0x400001, 5: 0x400002 (5 bytes), nop 0x400007, 1: 0x400008, 1: 0x400009 (5 bytes), ret 0x40000e
const where = async (spec: string) => {
  const e = parseEvent(`preempt@${spec}`, await inline(SOURCE), 2);
  return e.place.at === 'address' ? e.place.address : null;
};
const refusal = async (spec: string) => {
  try {
    parseEvent(`preempt@${spec}`, await inline(SOURCE), 2);
  } catch (e) {
    assert.ok(e instanceof RseqEmuError);
    return e.message;
  }
  assert.fail(`${spec} was accepted`);
};

describe('event locations', () => {
  it('accept a .L label with an offset', async () => {
    assert.equal(await where('.Lin+1'), 0x400002n);
  });
  it('accept a numeric label defined once, with an offset', async () => {
    assert.equal(await where('5+5'), 0x400007n);
  });
  it('accept N:K for the K-th definition of a reused numeric label', async () => {
    assert.deepEqual([await where('1:1'), await where('1:2'), await where('1:2+5')], [0x400008n, 0x400009n, 0x40000en]);
  });
  it('refuse a reused numeric label without :K, saying how many definitions it has', async () => {
    assert.match(await refusal('1'), /defined 2 times; write 1:K/);
  });
  it('refuse a definition number past the last one', async () => {
    assert.match(await refusal('1:3'), /defined 2 times, so 1:3 does not exist/);
  });
  it('refuse 1f and 1b with the syntax to use instead', async () => {
    assert.match(await refusal('1b'), /write N .* or N:K/);
  });
  it('refuse a numeric location that is not an instruction boundary', async () => {
    assert.match(await refusal('5+1'), /not the first byte of an instruction/);
  });
});

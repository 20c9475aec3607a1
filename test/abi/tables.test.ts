// Finding critical sections through the rseq tables, as a debugger would.
import { strict as assert } from 'node:assert';
import { decodeRseqCs, encodeRseqCs, readRseqArea, encodeRseqArea } from '../../src/abi/rseq.js';
import { readRseqTables, sectionContaining } from '../../src/abi/tables.js';
import { address, bundled, inline } from '../support/program.js';

const SIG = '.byte 0x0f, 0xb9, 0x3d\n .long 0x53053053\n';

describe('the rseq ABI', () => {
  it('round-trips struct rseq_cs through its 32-byte layout', () => {
    const cs = { version: 0, flags: 4, startIp: 0x401000n, postCommitOffset: 0x18n, abortIp: 0x403007n };
    const bytes = encodeRseqCs(cs);
    assert.equal(bytes.length, 32);
    assert.deepEqual([...bytes.subarray(8, 11)], [0x00, 0x10, 0x40]);
    assert.deepEqual(decodeRseqCs(bytes), cs);
  });
  it('round-trips struct rseq with node_id at 20 and mm_cid at 24', () => {
    const area = { cpuIdStart: 1, cpuId: -1, rseqCs: 0x401000n, flags: 0, nodeId: 3, mmCid: 2 };
    const bytes = encodeRseqArea(area);
    assert.equal(bytes[20], 3);
    assert.equal(bytes[24], 2);
    assert.deepEqual(readRseqArea({ read: () => bytes }, 0n), area);
  });
});

describe('reading the rseq tables of an image', () => {
  it('finds a descriptor in __rseq_cs and the same one through __rseq_cs_ptr_array', async () => {
    const image = await bundled('counter_add.s');
    const t = readRseqTables(image);
    assert.equal(t.sections.length, 1);
    const cs = t.sections[0]!;
    assert.deepEqual(cs.listedIn, ['__rseq_cs', '__rseq_cs_ptr_array']);
    assert.equal(cs.startIp, address(image, '.Lcounter_add_start'));
    assert.equal(cs.postCommitIp, address(image, '.Lcounter_add_post_commit'));
    assert.equal(cs.abortIp, address(image, '.Lcounter_add_abort'));
    assert.equal(cs.descriptor, address(image, '.Lcounter_add_cs'));
    assert.equal(cs.startLine?.loc.file, 'asm/counter_add.s');
  });
  it('reads every (start_ip, exit_ip) pair of __rseq_exit_point_array', async () => {
    const image = await bundled('percpu_list.s');
    const t = readRseqTables(image);
    assert.equal(t.sections.length, 2);
    assert.deepEqual(t.exitPoints.map((e) => e.startIp), [address(image, '.Llist_push_start'), address(image, '.Llist_pop_start')]);
    assert.equal(t.exitPoints[1]!.exitIp, address(image, '.Llist_pop_empty'));
  });
  it('reads descriptors stored in place in the older __rseq_table', async () => {
    const image = await inline(`f: nop\n s: nop\n e: ret\n ${SIG} a: ret\n .pushsection __rseq_table, "aw"\n .balign 32\n .long 0, 0\n .quad s, e - s, a\n .popsection`);
    const t = readRseqTables(image);
    assert.deepEqual(t.present, ['__rseq_table']);
    assert.deepEqual(t.sections.map((c) => c.listedIn), [['__rseq_table']]);
  });
  it('reports a pointer-array entry that does not point into the image', async () => {
    const image = await inline('f: ret\n .pushsection __rseq_cs_ptr_array, "aw"\n .quad 0x12345678\n .popsection');
    assert.match(readRseqTables(image).problems[0]!.message, /__rseq_cs_ptr_array entry 0x12345678 does not point to 32 bytes of the image/);
  });
  it('reports a __rseq_cs section whose size is not a multiple of 32', async () => {
    const image = await inline('f: ret\n .pushsection __rseq_cs, "aw"\n .long 0, 0, 0\n .popsection');
    assert.match(readRseqTables(image).problems[0]!.message, /__rseq_cs is 12 bytes, not a multiple of 32/);
  });
  it('finds the section containing an IP with the kernel\'s unsigned test', async () => {
    const image = await bundled('counter_add.s');
    const t = readRseqTables(image);
    const cs = t.sections[0]!;
    assert.equal(sectionContaining(t.sections, cs.startIp), cs);
    assert.equal(sectionContaining(t.sections, cs.postCommitIp), undefined);
  });
});

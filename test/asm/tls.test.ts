// Thread-local storage: .tdata/.tbss form a template copied below each thread's FS base, @tpoff is
// the offset from the thread pointer, @gottpoff a GOT slot holding it, and __rseq_abi is the
// emulated glibc's registered area.
import { strict as assert } from 'node:assert';
import { RseqEmuError } from '../../src/errors.js';
import { GLIBC_DEFAULTS } from '../../src/abi/glibc.js';
import { address, inline } from '../support/program.js';
import { Machine } from '../../src/kernel/machine.js';

const TLS = `
	.section .tdata, "awT"
	.balign 8
seed:	.quad 41
	.section .tbss, "awT", @nobits
	.balign 8
counter: .zero 8
	.text
`;

const run = async (src: string, threads: { cpu: number }[] = [{ cpu: 0 }]) => {
  const image = await inline(src);
  const m = Machine.create(image);
  try {
    for (const t of threads) m.spawn({ entry: address(image, 'f'), args: [], cpu: t.cpu });
    return m.run().threads.map((t) => t.returns[0]);
  } finally {
    m.close();
  }
};

describe('thread-local storage', () => {
  it('lays out .tdata then .tbss so the block ends at the thread pointer', async () => {
    const image = await inline(TLS + 'f: ret\n');
    assert.deepEqual([...image.tls!.bytes], [41, 0, 0, 0, 0, 0, 0, 0, ...new Array(8).fill(0)]);
    assert.equal(image.tls!.align, 8);
  });
  it('reads .tdata initial values and writes .tbss through %fs:sym@tpoff', async () => {
    assert.deepEqual(await run(TLS + 'f: movq %fs:seed@tpoff, %rax\n addq $1, %rax\n movq %rax, %fs:counter@tpoff\n movq %fs:counter@tpoff, %rax\n ret\n'), [42n]);
  });
  it('gives each thread its own copy', async () => {
    const src = TLS + 'f: incq %fs:counter@tpoff\n incq %fs:counter@tpoff\n movq %fs:counter@tpoff, %rax\n ret\n';
    assert.deepEqual(await run(src, [{ cpu: 0 }, { cpu: 0 }]), [2n, 2n]);
  });
  it('loads the offset from a GOT slot for sym@gottpoff (initial-exec)', async () => {
    assert.deepEqual(await run(TLS + 'f: movq seed@gottpoff(%rip), %rcx\n movq %fs:(%rcx), %rax\n ret\n'), [41n]);
  });
  it('finds a variable through __tls_get_addr and a GOT pair for sym@tlsgd (general dynamic, gcc -fPIC)', async () => {
    const gd = 'f: subq $8, %rsp\n data16 leaq seed@tlsgd(%rip), %rdi\n .value 0x6666\n rex64\n call __tls_get_addr@PLT\n movq (%rax), %rax\n addq $8, %rsp\n ret\n';
    assert.deepEqual(await run(TLS + gd), [41n]);
  });
  it('finds the block through sym@tlsld and each variable at sym@dtpoff in it (local dynamic)', async () => {
    const ld = 'f: subq $8, %rsp\n leaq counter@tlsld(%rip), %rdi\n call __tls_get_addr@PLT\n movq seed@dtpoff(%rax), %rcx\n movq %rcx, counter@dtpoff(%rax)\n movq %fs:counter@tpoff, %rax\n addq $8, %rsp\n ret\n';
    assert.deepEqual(await run(TLS + ld, [{ cpu: 0 }, { cpu: 0 }]), [41n, 41n]);
  });
  it('encodes gcc\'s general-dynamic call as GNU as does: 66 66 48 e8 rel32', async () => {
    const image = await inline(TLS + 'f: .value 0x6666\n rex64\n call __tls_get_addr@PLT\n');
    assert.deepEqual([...image.sections.find((s) => s.name === '.text')!.bytes.subarray(0, 4)], [0x66, 0x66, 0x48, 0xe8]);
  });
  it('resolves __rseq_abi@tpoff to the area the emulated glibc registered', async () => {
    const image = await inline('f: movq $__rseq_abi@tpoff, %rax\n ret\n');
    const m = Machine.create(image);
    try {
      assert.equal(m.call(address(image, 'f'), []).rax, GLIBC_DEFAULTS.rseqOffset);
    } finally {
      m.close();
    }
    assert.deepEqual(await run('f: movl %fs:__rseq_abi@tpoff+4, %eax\n ret\n', [{ cpu: 1 }]), [1n]);
  });
  it('refuses @tpoff of a symbol that is not thread-local', async () => {
    await assert.rejects(inline('f: movq %fs:f@tpoff, %rax\n ret\n'), /'f' is not thread-local \(it is in \.text\), so it has no @tpoff/);
  });
  it('refuses @tpoff of an unknown symbol at its first use', async () => {
    await assert.rejects(inline('f: nop\n movq %fs:nowhere@tpoff, %rax\n ret\n'), (e: unknown) => e instanceof RseqEmuError && /^test\.s:2:.*undefined thread-local symbol 'nowhere'/.test(e.oneLine()));
  });
  it('refuses thread-local data larger than a thread\'s TLS page', async () => {
    const image = await inline('.section .tbss, "awT", @nobits\n big: .zero 8192\n .text\n f: ret\n');
    assert.throws(() => Machine.create(image), /thread-local data of 8192 bytes is more than the 4096 bytes/);
  });
  it('accepts .reloc R_X86_64_NONE, which changes no byte, and refuses other .reloc types', async () => {
    const a = await inline('f: ret\n .reloc 0, R_X86_64_NONE, f\n');
    const b = await inline('f: ret\n');
    assert.deepEqual(a.sections[0]!.bytes, b.sections[0]!.bytes);
    await assert.rejects(inline('f: ret\n .reloc 0, R_X86_64_64, f\n'), /\.reloc R_X86_64_64 is not supported/);
  });
});

// Assembly that gcc writes for C with rseq inline asm (librseq's style), as users will feed it:
// PIE code reaching __rseq_offset RIP-relative, PIC code through the GOT and calls through the PLT.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSymbol } from '../../src/asm/image.js';
import { RseqEmuError } from '../../src/errors.js';
import { Machine } from '../../src/kernel/machine.js';
import { parseEvent } from '../../src/kernel/event-spec.js';
import { assembleSource } from '../../src/program.js';

const SOURCE = fileURLToPath(new URL('./fixtures/percpu_inc.c', import.meta.url));
const hasGcc = spawnSync('gcc', ['--version']).status === 0;

function gccS(flags: string[], file = SOURCE): string {
  const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-gcc-'));
  try {
    const out = join(dir, 'out.s');
    const r = spawnSync('gcc', ['-O2', '-S', ...flags, file, '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(out, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs percpu_inc with a preemption inside its section: the abort path returns -1. */
async function runAborting(asm: string, file: string) {
  const image = await assembleSource(asm, file);
  const m = Machine.create(image);
  try {
    const c = m.allocate('c', 16);
    // Where gcc put the section is its business: try each instruction until a preemption aborts.
    for (let k = 1; k < 20; k++) {
      const out = m.call(findSymbol(image, 'percpu_inc')!.address, [c], { events: [parseEvent(`preempt@#${k}`, image, 2)] });
      if (out.events[0]?.outcome === 'aborted') return out;
    }
    return null;
  } finally {
    m.close();
  }
}

describe('gcc output', function () {
  before(function () {
    if (!hasGcc) this.skip();
  });

  it('assembles PIE code and aborts its critical section on a preemption', async () => {
    const out = await runAborting(gccS([]), 'pie.s');
    assert.ok(out, 'some preemption lands inside the section');
    assert.equal(BigInt.asIntN(32, out.rax), -1n);
  });

  it('resolves sym@GOTPCREL through a GOT slot holding the symbol\'s address', async () => {
    const asm = gccS(['-fPIC']);
    assert.match(asm, /__rseq_offset@GOTPCREL\(%rip\)/);
    const image = await assembleSource(asm, 'pic.s');
    const got = image.sections.find((s) => s.name === '.got');
    assert.ok(got, 'a .got section was made');
    const slot = findSymbol(image, '__got.__rseq_offset')!;
    const offsetVar = image.symbols.find((s) => s.name === '__rseq_offset')!;
    assert.equal(new DataView(got.bytes.buffer, got.bytes.byteOffset + Number(slot.address - got.address), 8).getBigUint64(0, true), offsetVar.address);
    const out = await runAborting(asm, 'pic.s');
    assert.ok(out);
    assert.equal(BigInt.asIntN(32, out.rax), -1n);
  });

  it('calls through @PLT as a static link would, straight to the function', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-gcc-'));
    try {
      const c = join(dir, 'call.c');
      writeFileSync(c, 'int f(int x) { return x * 3; }\nint g(int y) { return f(y) + 1; }\n');
      const asm = gccS(['-fPIC', '-fno-inline'], c);
      assert.match(asm, /call\s+f@PLT/);
      const image = await assembleSource(asm, 'call.s');
      const m = Machine.create(image);
      try {
        assert.equal(m.call(findSymbol(image, 'g')!.address, [5n]).rax, 16n);
      } finally {
        m.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('assembles and runs gcc -g output with CET (endbr64) and PIC together', async () => {
    const asm = gccS(['-g', '-fcf-protection=full', '-fPIC']);
    assert.match(asm, /endbr64/);
    assert.match(asm, /\.uleb128/);
    const out = await runAborting(asm, 'debug-cet-pic.s');
    assert.ok(out);
    assert.equal(BigInt.asIntN(32, out.rax), -1n);
  });

  it('refuses relocation modifiers it does not model, by name', async () => {
    await assert.rejects(assembleSource('f: leaq x@TLSDESC(%rip), %rax\n ret\n', 'tls.s'), (e: unknown) => {
      assert.ok(e instanceof RseqEmuError);
      assert.match(e.oneLine(), /^tls\.s:1:10: relocation modifier @TLSDESC in 'x@TLSDESC' is not supported \(only @PLT, @GOTPCREL, @tpoff, @gottpoff, @tlsgd, @tlsld and @dtpoff\)/);
      return true;
    });
  });
});

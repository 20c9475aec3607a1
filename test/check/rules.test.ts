// Each rule of `rseq-emu check` on a minimal broken source: the template with one thing broken.
import { strict as assert } from 'node:assert';
import { check, firesOnce, lineOf, TEMPLATE, variant } from './support.js';
import { readRseqTables } from '../../src/abi/tables.js';
import { disassemblyListing, sectionSummary } from '../../src/report/listing.js';
import { inline } from '../support/program.js';

describe('check rules', function () {
  this.timeout(20_000);

  it('finds nothing at all in the correct template the other tests break', async () => {
    assert.deepEqual(await check(TEMPLATE), []);
  });
  it('finds nothing in code without any critical section', async () => {
    assert.deepEqual(await check('f:\n\tmovq %fs:0, %rax\n\tmovl (%rax), %eax\n\tsyscall\n\tret\n'), []);
  });

  describe('descriptor', () => {
    it('warns when the descriptor is not 32-byte aligned', async () => {
      const src = variant(['\t.pushsection __rseq_cs, "aw"\n\t.balign 32\n.Lcs:', '\t.pushsection .data, "aw"\n\t.balign 32\n\t.quad 0\n.Lcs:']);
      await firesOnce(src, 'descriptor/misaligned', 'warning', '.long 0, 0');
    });
    it('reports a version other than 0 as an error at the descriptor', async () => {
      const src = variant(['.long 0, 0', '.long 1, 0']);
      const f = await firesOnce(src, 'descriptor/version', 'error', '.long 1, 0');
      assert.match(f.message, /version 1, expected 0/);
    });
    it('reports non-zero flags as an error naming the deprecated flag', async () => {
      const src = variant(['.long 0, 0', '.long 0, 2']);
      const f = await firesOnce(src, 'descriptor/flags', 'error', '.long 0, 2');
      assert.match(f.message, /NO_RESTART_ON_SIGNAL/);
    });
    it('reports a section reaching TASK_SIZE as descriptor/range', async () => {
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart, 0x7ffffffff000, .Labort']);
      await firesOnce(src, 'descriptor/range', 'error', '.quad .Lstart, 0x7ffffffff000');
    });
    it('reports start_ip + post_commit_offset overflowing 64 bits as descriptor/range', async () => {
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart, 0xfffffffffffffff0, .Labort']);
      await firesOnce(src, 'descriptor/range', 'error', '.quad .Lstart, 0xfffffffffffffff0');
    });
    it('reports post_commit_offset 0 as an empty section', async () => {
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart, 0, .Labort']);
      await firesOnce(src, 'descriptor/empty', 'error', '.quad .Lstart, 0, .Labort');
    });
    it('reports a section that lies in data, not in executable memory', async () => {
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lcs, 8, .Labort']);
      await firesOnce(src, 'descriptor/not-executable', 'error', '.quad .Lcs, 8, .Labort');
    });
    it('reports a start_ip in the middle of an instruction', async () => {
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart + 1, .Lpost - .Lstart - 1, .Labort']);
      const f = await firesOnce(src, 'descriptor/boundary', 'error', '.quad .Lstart + 1');
      assert.match(f.message, /start_ip .* is not the start of an instruction/);
    });
    it('reports a post-commit address in the middle of an instruction', async () => {
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart, .Lpost - .Lstart - 1, .Labort']);
      const f = await firesOnce(src, 'descriptor/boundary', 'error', '.quad .Lstart, .Lpost - .Lstart - 1');
      assert.match(f.message, /post-commit address .* is not the end of an instruction/);
    });
    it('reports two descriptors whose sections overlap, at the later one', async () => {
      const src = variant(['\t.quad .Lstart, .Lpost - .Lstart, .Labort\n', '\t.quad .Lstart, .Lpost - .Lstart, .Labort\n.Lcs2:\n\t.long 0, 0\n\t.quad .Lstart + 5, 8, .Labort\n']);
      await firesOnce(src, 'descriptor/overlap', 'error', '.quad .Lstart + 5, 8');
    });
    it('reports each overlapping section once, at its descriptor, when an earlier descriptor overlaps it', async () => {
      // d1 [10,20), d2 [15,30), d3 [0,100): d2 overlaps d1, and d3 overlaps both; d1 comes first.
      const src = [
        '\t.text', 'f:', '\t.fill 120, 1, 0x90', '\tret', '\t.byte 0x0f, 0xb9, 0x3d', '\t.long 0x53053053', 'ab:\tret',
        '\t.pushsection __rseq_cs, "aw"', '\t.balign 32',
        'd1:\t.long 0, 0', '\t.quad f + 10, 10, ab', 'd2:\t.long 0, 0', '\t.quad f + 15, 15, ab', 'd3:\t.long 0, 0', '\t.quad f, 100, ab',
        '\t.popsection', '',
      ].join('\n');
      const overlaps = (await check(src)).filter((f) => f.rule === 'descriptor/overlap');
      assert.deepEqual(overlaps.map((f) => f.message.replace(/:.*/, '')).sort(), ['descriptor 0x401020 <d2>', 'descriptor 0x401040 <d3>']);
    });
    it('lists the first 100 bad entries of a table and counts the rest in one more finding', async () => {
      const src = '\t.text\nf:\tret\n\t.pushsection __rseq_cs_ptr_array, "aw"\n\t.fill 300, 8, 0\n\t.popsection\n';
      const bad = (await check(src)).filter((f) => f.rule === 'table/invalid-entry');
      assert.equal(bad.length, 101);
      assert.equal(bad.filter((f) => /^200 more entries of __rseq_cs_ptr_array with problems are not listed$/.test(f.message)).length, 1);
    });
    it('refuses a table of more entries than the tableEntries limit, at its line', async () => {
      const src = '\t.text\nf:\tret\n\t.pushsection __rseq_cs_ptr_array, "aw"\n\t.fill 70000, 8, 0\n\t.popsection\n';
      await assert.rejects(check(src), (e: Error & { code?: string; location?: { line: number } }) => e.code === 'INPUT' && e.location?.line === 4 && /70000 entries, more than the 65536 of the limit tableEntries/.test(e.message));
    });
    it('reports a table filled with one descriptor a thousand times in about a thousand findings, not half a million', async () => {
      const src = '\t.text\nf:\tret\n\t.pushsection __rseq_cs, "aw"\n\t.fill 8000, 4, 1\n\t.popsection\n';
      assert.equal((await check(src)).filter((f) => f.rule === 'descriptor/overlap').length, 999);
    });
    it('reports a store into rseq_cs of an address that holds no descriptor, at the store', async () => {
      const src = variant(['leaq .Lcs(%rip), %rax\n\tmovq %rax, %fs:8(%rcx)', 'movq $0x12345678, %rax\n\tmovq %rax, %fs:8(%rcx)']);
      const f = await firesOnce(src, 'descriptor/unreadable', 'error', 'movq %rax, %fs:8(%rcx)');
      assert.match(f.message, /cannot read struct rseq_cs at 0x12345678/);
    });
  });

  describe('abort', () => {
    it('reports an abort_ip inside the section', async () => {
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart, .Lpost - .Lstart, .Lstart + 5']);
      await firesOnce(src, 'abort/inside', 'error', '.Lstart + 5');
    });
    it('reports only the first of the kernel checks that fails, in the kernel order (version before signature)', async () => {
      const src = variant(['.long 0, 0', '.long 1, 0'], ['.long 0x53053053', '.long 0x53053054']);
      assert.deepEqual((await check(src)).map((f) => f.rule), ['descriptor/version']);
    });
    it('reports a wrong signature at the signature bytes', async () => {
      const src = variant(['.long 0x53053053', '.long 0x53053054']);
      const f = await firesOnce(src, 'abort/signature', 'error', '.long 0x53053054');
      assert.match(f.message, /signature mismatch: 0x53053054/);
    });
    it('checks the signature given with --sig instead of the default', async () => {
      const f = await firesOnce(TEMPLATE, 'abort/signature', 'error', '.long 0x53053053', { sig: 0xabcdef01 });
      assert.match(f.message, /expected 0xabcdef01/);
    });
    it('warns when the signature is a bare .long, not the ud1 form', async () => {
      const src = variant(['.byte 0x0f, 0xb9, 0x3d', '.byte 0x90, 0x90, 0x90']);
      await firesOnce(src, 'abort/signature-form', 'warning', '.byte 0x90, 0x90, 0x90');
    });
    it('only notes a signature carried by a nopl, which is harmless to fall into', async () => {
      const src = variant(['.byte 0x0f, 0xb9, 0x3d', '.byte 0x0f, 0x1f, 0x05']);
      await firesOnce(src, 'abort/signature-form', 'note', '.byte 0x0f, 0x1f, 0x05');
    });
    for (const [carrier, bytes] of [['a nopl', '.byte 0x0f, 0x1f, 0x05'], ['bare data', '.byte 0x90, 0x90, 0x90']]) {
      it(`describes a signature carried by ${carrier} in the words disasm uses`, async () => {
        const src = variant(['.byte 0x0f, 0xb9, 0x3d', bytes]);
        const image = await inline(src);
        const f = await firesOnce(src, 'abort/signature-form', carrier === 'a nopl' ? 'note' : 'warning', bytes);
        const listed = /signature 0x53053053 \((.*)\) {2}listed in/.exec(sectionSummary(image, readRseqTables(image)).join('\n'));
        assert.ok(listed, 'no signature line in the disasm summary');
        assert.ok(f.message.endsWith(`is ${listed[1]}`), `${f.message}\n${listed[1]}`);
      });
    }
    it('has disasm list a nopl-carried signature as the nopl it forms, with its displacement the signature', async () => {
      const image = await inline(variant(['.byte 0x0f, 0xb9, 0x3d', '.byte 0x0f, 0x1f, 0x05']));
      assert.match(disassemblyListing(image, readRseqTables(image)), /0f 1f 05 53 30 05 53 +nopl 0x53053053\(%rip\) +\[cs0:signature\]/);
    });
    it('reports an abort_ip in memory that is not executable', async () => {
      const data = '\t.pushsection .data, "aw"\n\t.long 0x53053053\n.Ldata:\n\t.quad 0\n\t.popsection\n';
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart, .Lpost - .Lstart, .Ldata']) + data;
      await firesOnce(src, 'abort/not-executable', 'error', '.quad .Lstart, .Lpost - .Lstart, .Ldata');
    });
    it('reports an abort_ip that is not the start of an instruction', async () => {
      const src = variant(['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart, .Lpost - .Lstart, .Labort + 1']);
      const f = await firesOnce(src, 'abort/not-executable', 'error', '.Labort + 1');
      assert.match(f.message, /not the start of an instruction/);
    });
    it('reports an abort handler that goes back into the section without storing the descriptor again', async () => {
      const src = variant(['.Labort:\n\tjmp .Lretry', '.Labort:\n\tjmp .Lstart']);
      const f = await firesOnce(src, 'abort/fall-through', 'error', 'jmp .Lstart');
      assert.match(f.message, /cleared it at the abort/);
    });
    it('reports an abort handler that falls through into the section', async () => {
      const src = variant(
        ['\tmovq %rax, %fs:8(%rcx)\n.Lstart:', '\tmovq %rax, %fs:8(%rcx)\n\tjmp .Lstart\n\t.byte 0x0f, 0xb9, 0x3d\n\t.long 0x53053053\n.Lfall:\n\tnop\n.Lstart:'],
        ['.quad .Lstart, .Lpost - .Lstart, .Labort', '.quad .Lstart, .Lpost - .Lstart, .Lfall'],
      );
      await firesOnce(src, 'abort/fall-through', 'error', '\tnop');
    });
  });

  describe('table', () => {
    it('reports an armed descriptor missing from __rseq_cs_ptr_array as an error when the image has one', async () => {
      const src = variant(['\t.quad .Lcs\n', '']);
      await firesOnce(src, 'table/missing-descriptor', 'error', 'movq %rax, %fs:8(%rcx)');
    });
    it('only warns about an armed descriptor listed nowhere when the image has no pointer array or __rseq_table', async () => {
      const src = variant(['\t.pushsection __rseq_cs_ptr_array, "aw"\n\t.quad .Lcs\n\t.popsection\n', '']);
      const f = await firesOnce(src, 'table/missing-descriptor', 'warning', 'movq %rax, %fs:8(%rcx)');
      assert.match(f.message, /neither __rseq_cs_ptr_array nor __rseq_table/);
    });
    it('finds and checks a descriptor outside every table through the code that stores it', async () => {
      const src = variant(['\t.pushsection __rseq_cs, "aw"', '\t.pushsection .data, "aw"'], ['\t.quad .Lcs\n', ''], ['.long 0, 0', '.long 1, 0']);
      const rules = (await check(src)).map((f) => f.rule);
      assert.ok(rules.includes('table/missing-descriptor'));
      assert.ok(rules.includes('descriptor/version'));
    });
    it('reports a pointer-array entry that points outside the image', async () => {
      const src = variant(['\t.quad .Lcs\n', '\t.quad .Lcs\n\t.quad 0x12345678\n']);
      await firesOnce(src, 'table/invalid-entry', 'error', '.quad 0x12345678');
    });
    it('reports an exit point whose start_ip starts no critical section', async () => {
      const src = `${TEMPLATE}\t.pushsection __rseq_exit_point_array, "aw"\n\t.quad .Lpost, .Lretry\n\t.popsection\n`;
      await firesOnce(src, 'table/invalid-entry', 'error', '.quad .Lpost, .Lretry');
    });
    it('warns about a jump out of the section to a target that __rseq_exit_point_array does not list', async () => {
      const src = variant(['\tjne .Labort\n', '\tjne .Labort\n\tjz .Lout\n'], ['\tret\n', '\tret\n.Lout:\n\tret\n']);
      await firesOnce(src, 'table/unlisted-exit', 'warning', 'jz .Lout');
    });
    it('accepts that jump once __rseq_exit_point_array lists it', async () => {
      const src = `${variant(['\tjne .Labort\n', '\tjne .Labort\n\tjz .Lout\n'], ['\tret\n', '\tret\n.Lout:\n\tret\n'])}\t.pushsection __rseq_exit_point_array, "aw"\n\t.quad .Lstart, .Lout\n\t.popsection\n`;
      assert.deepEqual((await check(src)).filter((f) => f.rule === 'table/unlisted-exit'), []);
    });
    it('warns about an indirect jump inside the section', async () => {
      const src = variant(['\taddq %rsi, %r9\n', '\taddq %rsi, %r9\n\tjmp *%rdx\n']);
      await firesOnce(src, 'table/unlisted-exit', 'warning', 'jmp *%rdx');
    });
  });

  describe('commit', () => {
    it('warns when the last instruction of the section is not a store', async () => {
      const src = variant(['\tmovq %r9, (%rdi,%r8,8)\n.Lpost:', '\tmovq %r9, (%rdi,%r8,8)\n\tnop\n.Lpost:']);
      await firesOnce(src, 'commit/not-last-store', 'warning', '\tnop');
    });
    it('lists a store before the commit as a note with its target', async () => {
      const src = variant(['\taddq %rsi, %r9\n', '\taddq %rsi, %r9\n\tmovq %r9, 8(%rdx)\n']);
      const f = await firesOnce(src, 'commit/try-store', 'note', 'movq %r9, 8(%rdx)');
      assert.match(f.message, /movq %r9, 8\(%rdx\)/);
    });
    it('reports a store to per-CPU memory after the section of a value loaded inside it', async () => {
      const src = variant(['\tmovq %r9, (%rdi,%r8,8)\n.Lpost:', '.Lpost:\n\tmovq %r9, (%rdi,%r8,8)']);
      await firesOnce(src, 'commit/outside', 'error', 'movq %r9, (%rdi,%r8,8)');
    });
    it('reports a read-modify-write commit after the post-commit label (addq into the cpu-indexed slot)', async () => {
      const src = variant(['\tmovq (%rdi,%r8,8), %r9\n\taddq %rsi, %r9\n\tmovq %r9, (%rdi,%r8,8)\n.Lpost:', '\tnop\n.Lpost:\n\taddq %rsi, (%rdi,%r8,8)']);
      const f = await firesOnce(src, 'commit/outside', 'error', 'addq %rsi, (%rdi,%r8,8)');
      assert.match(f.message, /reads, modifies and writes/);
    });
    it('reports a one-operand read-modify-write after the section (incq) the same way', async () => {
      const src = variant(['\tmovq (%rdi,%r8,8), %r9\n\taddq %rsi, %r9\n\tmovq %r9, (%rdi,%r8,8)\n.Lpost:', '\tnop\n.Lpost:\n\tincq (%rdi,%r8,8)']);
      await firesOnce(src, 'commit/outside', 'error', 'incq (%rdi,%r8,8)');
    });
    it('does not report a cpu-indexed store once the cpu number has been read again for a new attempt', async () => {
      // After the section the code loops: it reads the cpu again and updates a slot, unprotected, before arming.
      const src = variant(['\tret\n\t.pushsection', '\tcmpq $0, %rsi\n\tje .Lretry\n\tret\n\t.pushsection'], ['\tleaq .Lcs(%rip), %rax\n', '\tincq 8(%rdi,%r8,8)\n\tleaq .Lcs(%rip), %rax\n']);
      assert.ok(!(await check(src)).some((f) => f.rule === 'commit/outside'));
    });
    it('does not report a plain store of an unrelated value after the section', async () => {
      const src = variant(['.Lpost:\n\tret\n', '.Lpost:\n\tmovq $0, 8(%rdi,%r8,8)\n\tret\n']);
      assert.ok(!(await check(src)).some((f) => f.rule === 'commit/outside'));
    });
    it('warns about a load from the cpu-indexed slot after the commit', async () => {
      const src = variant(['.Lpost:\n\tret\n', '.Lpost:\n\tmovq 8(%rdi,%r8,8), %rax\n\tret\n']);
      await firesOnce(src, 'commit/read-after', 'warning', 'movq 8(%rdi,%r8,8), %rax');
    });
    it('does not warn about a load after the commit from memory not indexed by the cpu', async () => {
      const src = variant(['.Lpost:\n\tret\n', '.Lpost:\n\tmovq 8(%rdi), %rax\n\tret\n']);
      assert.ok(!(await check(src)).some((f) => f.rule === 'commit/read-after'));
    });
    it('does not warn about an address computed from the cpu-indexed slot after the commit (lea reads no memory)', async () => {
      const src = variant(['.Lpost:\n\tret\n', '.Lpost:\n\tleaq 8(%rdi,%r8,8), %rax\n\tret\n']);
      assert.ok(!(await check(src)).some((f) => f.rule === 'commit/read-after'));
    });
    for (const ins of ['syscall', 'sysenter', 'int $0x80']) {
      it(`reports \`${ins}\` inside the section as a system call`, async () => {
        const src = variant(['\taddq %rsi, %r9\n', `\taddq %rsi, %r9\n\t${ins}\n`]);
        await firesOnce(src, 'commit/syscall', 'error', `\t${ins}`);
      });
    }
    it('reports a call that leaves the section', async () => {
      const src = variant(['\taddq %rsi, %r9\n', '\taddq %rsi, %r9\n\tcall g\n'], ['\tret\n', '\tret\ng:\n\tret\n']);
      await firesOnce(src, 'commit/call', 'error', 'call g');
    });
    it('reports a return inside the section', async () => {
      const src = variant(['\tjne .Labort\n', '\tjne .Labort\n\tjz .Lbail\n\tjmp .Lgo\n.Lbail:\n\tretq\n.Lgo:\n']);
      await firesOnce(src, 'commit/ret', 'error', 'retq');
    });
    for (const [ins, why] of [
      ['ud2', /SIGILL/],
      ['ud1 0x10(%rip), %eax', /SIGILL/],
      ['int3', /trap/],
      ['int1', /trap/],
      ['int $3', /interrupt/],
      ['hlt', /privileged/],
      ['cli', /privileged/],
      ['sti', /privileged/],
      ['inb %dx, %al', /privileged/],
      ['outb %al, %dx', /privileged/],
      ['insb', /privileged/],
      ['lgdt (%rax)', /privileged/],
      ['lidt (%rax)', /privileged/],
      ['lldt %ax', /privileged/],
      ['ltr %ax', /privileged/],
      ['lmsw %ax', /privileged/],
      ['clts', /privileged/],
      ['invd', /privileged/],
      ['wbinvd', /privileged/],
      ['invlpg (%rax)', /privileged/],
      ['invpcid (%rax), %rcx', /privileged/],
      ['rdmsr', /privileged/],
      ['wrmsr', /privileged/],
      ['swapgs', /privileged/],
      ['sysretq', /privileged/],
      ['sysexit', /privileged/],
      ['monitor', /privileged/],
      ['mwait', /privileged/],
      ['xsetbv', /privileged/],
      ['rdpmc', /privileged/],
      ['movq %cr0, %rax', /control or debug register/],
      ['movq %rax, %dr7', /control or debug register/],
      ['divq %rcx', /zero divisor/],
      ['idivl %ecx', /zero divisor/],
    ] as const) {
      it(`reports \`${ins}\` inside the section as an instruction that traps`, async () => {
        const src = variant(['\taddq %rsi, %r9\n', `\taddq %rsi, %r9\n\t${ins}\n`]);
        const f = await firesOnce(src, 'commit/trap', 'error', `\t${ins}`);
        assert.match(f.message, why);
      });
    }
  });

  describe('setup', () => {
    it('reports a path into the section that never stores the descriptor into rseq_cs', async () => {
      const src = variant(['\tmovq %rax, %fs:8(%rcx)\n', '\tnop\n']);
      await firesOnce(src, 'setup/unarmed-entry', 'error', '\tnop');
    });
    it('reports a function entry inside the section', async () => {
      const src = variant(['\taddq %rsi, %r9\n', '\t.globl g\ng:\n\taddq %rsi, %r9\n']);
      await firesOnce(src, 'setup/unarmed-entry', 'error', 'addq %rsi, %r9');
    });
    it('reports an instruction between the rseq_cs store and the section, where a preemption clears rseq_cs', async () => {
      const src = variant(['\tmovq %rax, %fs:8(%rcx)\n', '\tmovq %rax, %fs:8(%rcx)\n\tnop\n']);
      const f = await firesOnce(src, 'setup/arm-gap', 'error', '\tnop');
      assert.match(f.message, /clear rseq_cs/);
    });
    it('reports the descriptor stored into rseq_cs inside the section', async () => {
      const src = variant(['\tleaq .Lcs(%rip), %rax\n\tmovq %rax, %fs:8(%rcx)\n.Lstart:\n', '.Lstart:\n\tleaq .Lcs(%rip), %rax\n\tmovq %rax, %fs:8(%rcx)\n']);
      await firesOnce(src, 'setup/store-inside', 'error', 'movq %rax, %fs:8(%rcx)');
    });
    it('reports a cpu number read before the section and used inside it without a compare', async () => {
      const src = variant(['\tcmpl %fs:4(%rcx), %r8d\n\tjne .Labort\n', '']);
      const f = await firesOnce(src, 'setup/no-cpu-compare', 'error', 'movq (%rdi,%r8,8), %r9');
      assert.match(f.message, /cpu_id_start read at 0x[0-9a-f]+ <\.Lretry> before the section/);
    });
    it('accepts a cpu number used by a load before the compare, as long as the compare comes before any store', async () => {
      const src = variant(['\tcmpl %fs:4(%rcx), %r8d\n\tjne .Labort\n\tmovq (%rdi,%r8,8), %r9\n', '\tmovq (%rdi,%r8,8), %r9\n\tcmpl %fs:4(%rcx), %r8d\n\tjne .Labort\n']);
      assert.deepEqual(await check(src), []);
    });
    it('accepts a cpu number compared through a register loaded inside the section', async () => {
      const src = variant(['\tcmpl %fs:4(%rcx), %r8d\n', '\tmovl %fs:4(%rcx), %edx\n\tcmpl %edx, %r8d\n']);
      assert.deepEqual(await check(src), []);
    });
    it('warns when the section compares with cpu_id_start instead of cpu_id', async () => {
      const src = variant(['cmpl %fs:4(%rcx), %r8d', 'cmpl %fs:0(%rcx), %r8d']);
      await firesOnce(src, 'setup/cpu-id-start', 'warning', 'cmpl %fs:0(%rcx), %r8d');
    });
    it('reports per-CPU data loaded before the section and stored inside it without a compare', async () => {
      const src = variant(['\tleaq .Lcs(%rip), %rax\n', '\tmovq (%rdi,%r8,8), %r9\n\tleaq .Lcs(%rip), %rax\n'], ['\tmovq (%rdi,%r8,8), %r9\n\taddq', '\taddq']);
      const f = await firesOnce(src, 'setup/stale-load', 'error', 'movq (%rdi,%r8,8), %r9');
      assert.match(f.message, /stores a value computed from it inside the section without comparing it again/);
    });
    it('accepts per-CPU data loaded before the section when the section compares it with memory again', async () => {
      const src = variant(
        ['\tleaq .Lcs(%rip), %rax\n', '\tmovq (%rdi,%r8,8), %r9\n\tleaq .Lcs(%rip), %rax\n'],
        ['\tmovq (%rdi,%r8,8), %r9\n\taddq', '\tcmpq %r9, (%rdi,%r8,8)\n\tjne .Lretry\n\taddq'],
      );
      const rules = (await check(src)).map((f) => f.rule);
      assert.ok(!rules.includes('setup/stale-load'), rules.join());
    });
  });

  it('locates findings with the file and line of the source, sorted by line', async () => {
    const src = variant(['.long 0x53053053', '.long 0x53053054'], ['.long 0, 0', '.long 0, 1']);
    const found = await check(src);
    assert.deepEqual(found.map((f) => [f.rule, f.file, f.line]), [
      ['descriptor/flags', 'test.s', lineOf(src, '.long 0, 1')],
      ['abort/signature', 'test.s', lineOf(src, '.long 0x53053054')],
    ]);
  });
});

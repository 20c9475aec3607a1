// Checks every Unicorn constant the engine uses against the installed 2.0.1 headers
// (package libunicorn-dev). A wrong id fails silently at run time, so this is the only
// place such a mistake shows up.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import {
  UC_ARCH_X86, UC_CTL_IO_WRITE, UC_CTL_TB_FLUSH, UC_CTL_WRITE_TB_FLUSH, UC_MODE_64, UC_X86_INS_SYSCALL,
  UcErr, UcHook, UcMem, UcProt, UcX86Reg,
} from '../../src/engine/unicorn-constants.js';

const HEADERS = '/usr/include/unicorn';

/**
 * Every enumerator of every `typedef enum ... { ... }` in `source`, with C's rules: an
 * explicit value is an expression over numbers and earlier enumerators, otherwise the
 * previous value plus one.
 */
function parseEnums(source: string): Map<string, number> {
  const values = new Map<string, number>();
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const body of text.matchAll(/typedef\s+enum\s+\w*\s*\{([^}]*)\}/g)) {
    let next = 0;
    for (const item of body[1]!.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [name, expr] = item.split('=').map((s) => s.trim()) as [string, string | undefined];
      const value = expr === undefined ? next : evaluate(expr, (n) => values.get(n));
      values.set(name, value);
      next = value + 1;
    }
  }
  return values;
}

/** Evaluates an initialiser such as `1 << 3` or `(UC_HOOK_MEM_UNMAPPED + UC_HOOK_MEM_PROT)`. */
function evaluate(expr: string, lookup: (name: string) => number | undefined): number {
  const js = expr.replace(/[A-Za-z_]\w*/g, (name) => {
    const value = lookup(name);
    if (value === undefined) throw new Error(`unknown name ${name} in '${expr}'`);
    return String(value);
  });
  if (!/^[\d\s()<>|+x]*$/.test(js)) throw new Error(`unsupported initialiser '${expr}'`);
  return Number(new Function(`return (${js});`)());
}

/** An object-like `#define NAME expression` (with line continuations), evaluated. */
function macro(source: string, name: string, enums: Map<string, number>): number {
  const match = new RegExp(`#define\\s+${name}\\s+((?:.*\\\\\\n)*.*)`).exec(source);
  if (!match) throw new Error(`no #define ${name}`);
  const expr = match[1]!.replace(/\\\n/g, ' ').trim();
  return evaluate(expr, (n) => enums.get(n) ?? macro(source, n, enums));
}

describe('engine: Unicorn constants', () => {
  let unicornH = '';
  let enums = new Map<string, number>();

  before(function () {
    if (!existsSync(`${HEADERS}/unicorn.h`) || !existsSync(`${HEADERS}/x86.h`)) {
      console.log(`      (skipped: ${HEADERS}/unicorn.h and x86.h not found; install libunicorn-dev to check the constants)`);
      this.skip();
    }
    unicornH = readFileSync(`${HEADERS}/unicorn.h`, 'utf8');
    enums = new Map([...parseEnums(unicornH), ...parseEnums(readFileSync(`${HEADERS}/x86.h`, 'utf8'))]);
  });

  const expect = (name: string, value: number) => assert.equal(value, enums.get(name), name);

  it('come from the 2.0.1 headers', () => {
    const version = ['MAJOR', 'MINOR', 'PATCH'].map((part) => new RegExp(`#define UC_API_${part} (\\d+)`).exec(unicornH)?.[1]);
    assert.deepEqual(version, ['2', '0', '1']);
  });

  it('match the architecture and mode', () => {
    expect('UC_ARCH_X86', UC_ARCH_X86);
    expect('UC_MODE_64', UC_MODE_64);
  });

  it('match every error code', () => {
    for (const [name, value] of Object.entries(UcErr)) expect(`UC_ERR_${name}`, value);
  });

  it('match the hook types, including the UC_HOOK_MEM_INVALID macro', () => {
    for (const [name, value] of Object.entries(UcHook)) {
      if (name === 'MEM_INVALID') assert.equal(value, macro(unicornH, 'UC_HOOK_MEM_INVALID', enums), name);
      else expect(`UC_HOOK_${name}`, value);
    }
  });

  it('match the memory access types and protections', () => {
    for (const [name, value] of Object.entries(UcMem)) expect(`UC_MEM_${name}`, value);
    for (const [name, value] of Object.entries(UcProt)) expect(`UC_PROT_${name}`, value);
  });

  it('build the TB-flush control word as UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0) does', () => {
    expect('UC_CTL_TB_FLUSH', UC_CTL_TB_FLUSH);
    assert.equal(UC_CTL_IO_WRITE, macro(unicornH, 'UC_CTL_IO_WRITE', enums));
    assert.match(unicornH, /\(type\) \| \(\(nr\) << 26\) \| \(\(rw\) << 30\)/);
    assert.equal(UC_CTL_WRITE_TB_FLUSH, UC_CTL_TB_FLUSH | (UC_CTL_IO_WRITE << 30));
  });

  it('match the x86 register ids', () => {
    for (const [name, value] of Object.entries(UcX86Reg)) expect(`UC_X86_REG_${name}`, value);
  });

  it('match the x86 instruction id of SYSCALL', () => {
    expect('UC_X86_INS_SYSCALL', UC_X86_INS_SYSCALL);
  });
});

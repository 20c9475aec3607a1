// Shared set-up for the assembler tests: assemble a source held in the test, and catch the one
// RseqEmuError a bad source must produce.
import { strict as assert } from 'node:assert';
import { glibcSymbols } from '../../src/abi/glibc.js';
import { assemble, type AssembleOptions } from '../../src/asm/assembler.js';
import { sectionNamed, type Image, type ImageSymbol } from '../../src/asm/image.js';
import { RseqEmuError, type ErrorCode } from '../../src/errors.js';

/** The file name every inline source is assembled under. */
export const FILE = 'spec.s';

/** Source text from lines, so line numbers in a test read off its array index + 1. */
export const src = (...lines: string[]): string => lines.join('\n') + '\n';

export function asm(source: string, options: Partial<AssembleOptions> = {}): Promise<Image> {
  return assemble(source, { file: FILE, externals: glibcSymbols(), ...options });
}

/** The bytes of a section, which must exist. */
export function bytesOf(image: Image, name = '.text'): number[] {
  const s = sectionNamed(image, name);
  assert.ok(s, `no section ${name}; have ${image.sections.map((x) => x.name).join(', ')}`);
  return [...s.bytes];
}

/** The one symbol of that name (not a numeric label), which must exist. */
export function symbol(image: Image, name: string): ImageSymbol {
  const found = image.symbols.filter((s) => s.name === name && s.instance === undefined);
  assert.equal(found.length, 1, `expected one symbol '${name}', found ${found.length}`);
  return found[0]!;
}

/** Assembles a source that must fail, and returns its error. */
export async function failure(source: string, options: Partial<AssembleOptions> = {}): Promise<RseqEmuError> {
  try {
    await asm(source, options);
  } catch (e) {
    assert.ok(e instanceof RseqEmuError, `expected an RseqEmuError, got ${e instanceof Error ? e.stack : String(e)}`);
    return e;
  }
  assert.fail('the source assembled without an error');
}

export interface ExpectedError {
  code: ErrorCode;
  line: number;
  column: number;
  /** Text the message must contain: the offending spelling. */
  mentions: string;
}

/** Asserts the error's code, exact position and that its message names the offending text. */
export async function expectFailure(source: string, want: ExpectedError, options: Partial<AssembleOptions> = {}): Promise<RseqEmuError> {
  const e = await failure(source, options);
  assert.deepEqual(
    { code: e.code, file: e.location?.file, line: e.location?.line, column: e.location?.column },
    { code: want.code, file: FILE, line: want.line, column: want.column },
    e.oneLine(),
  );
  assert.ok(e.message.includes(want.mentions), `message '${e.message}' does not mention '${want.mentions}'`);
  assert.equal(e.oneLine(), `${FILE}:${want.line}:${want.column}: ${e.message}`);
  return e;
}

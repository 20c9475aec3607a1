// The image cache: images written to disk and read back are the images assembled, keys change with
// everything an image depends on, and a damaged, foreign or unwritable cache only costs a re-assembly.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLIBC_DEFAULTS } from '../../src/abi/glibc.js';
import { decodeImage, encodeImage } from '../../src/asm/image-codec.js';
import { cacheDir, imageKey, openImageCache } from '../../src/asm/image-cache.js';
import { assembleThrough, loadProgram } from '../../src/program.js';

const ASM_DIR = fileURLToPath(new URL('../../asm/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('the image cache', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rseq-emu-image-cache-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes every bundled program and assembler fixture to an image deep-equal to the one assembled', async function () {
    this.timeout(60_000);
    const files = [...readdirSync(ASM_DIR).map((f) => ASM_DIR + f), ...readdirSync(FIXTURES).filter((f) => f.endsWith('.s')).map((f) => FIXTURES + f)];
    assert.ok(files.length > 20);
    for (const file of files) {
      const image = await loadProgram(file);
      assert.deepStrictEqual(decodeImage(encodeImage(image)), image, file);
    }
  });

  it('gives back what was put under a key', async () => {
    const image = await loadProgram(`${ASM_DIR}percpu_list.s`);
    const cache = openImageCache(dir);
    cache.put('k1', image);
    assert.deepStrictEqual(cache.get('k1'), image);
    assert.equal(cache.get('k2'), null);
  });

  it('keys an image by the build, the source, its file name and every other input', () => {
    const base = imageKey('b1', 'nop\n', 'a.s', GLIBC_DEFAULTS);
    assert.equal(imageKey('b1', 'nop\n', 'a.s', { ...GLIBC_DEFAULTS }), base);
    for (const other of [
      imageKey('b2', 'nop\n', 'a.s', GLIBC_DEFAULTS),
      imageKey('b1', 'nop\n\n', 'a.s', GLIBC_DEFAULTS),
      imageKey('b1', 'nop\n', 'b.s', GLIBC_DEFAULTS),
      imageKey('b1', 'nop\n', 'a.s', { ...GLIBC_DEFAULTS, dataAddress: GLIBC_DEFAULTS.dataAddress + 0x1000n }),
    ]) assert.notEqual(other, base);
  });

  it('reads a damaged or foreign file as no image', () => {
    const cache = openImageCache(dir);
    for (const [key, text] of [['torn', '{"format":1,"image":{"file":'], ['foreign', '{"format":999,"image":{}}'], ['shapeless', '{"format":1,"image":{"file":"x"}}'], ['binary', '\0\x7fELF']]) {
      writeFileSync(join(dir, `${key}.json`), text);
      assert.equal(cache.get(key), null, key);
    }
  });

  it('ignores a cache path that is a file, not a directory', async () => {
    const image = await loadProgram(`${ASM_DIR}counter_add.s`);
    writeFileSync(join(dir, 'file'), 'x');
    const cache = openImageCache(join(dir, 'file'));
    cache.put('k', image);
    assert.equal(cache.get('k'), null);
  });

  it('keeps at most 256 images, dropping the oldest', async () => {
    const image = await loadProgram(`${ASM_DIR}counter_add.s`);
    const cache = openImageCache(dir);
    for (let i = 0; i < 256; i++) cache.put(`old${i}`, image);
    const past = new Date(Date.now() - 3600_000);
    for (let i = 0; i < 256; i++) utimesSync(join(dir, `old${i}.json`), past, new Date(past.getTime() + i * 1000));
    cache.put('new1', image);
    cache.put('new2', image);
    const left = readdirSync(dir);
    assert.equal(left.length, 256);
    assert.ok(left.includes('new1.json') && left.includes('new2.json') && !left.includes('old0.json') && !left.includes('old1.json') && left.includes('old2.json'));
  });

  it('answers assembleSource from the cache for the same build, source and file, and assembles otherwise', async () => {
    const cache = openImageCache(dir);
    const source = 'f: movq $1, %rax\n ret\n';
    const first = await assembleThrough({ cache, build: 'b1' }, source, 'f.s');
    assert.equal(readdirSync(dir).length, 1);
    // A planted image under the key proves the second call reads the cache instead of assembling.
    const planted = { ...first, file: 'planted.s' };
    cache.put(imageKey('b1', source, 'f.s', GLIBC_DEFAULTS), planted);
    assert.equal((await assembleThrough({ cache, build: 'b1' }, source, 'f.s')).file, 'planted.s');
    assert.equal((await assembleThrough({ cache, build: 'b2' }, source, 'f.s')).file, 'f.s');
    assert.equal((await assembleThrough(null, source, 'f.s')).file, 'f.s');
  });

  it('lives in RSEQ_EMU_CACHE_DIR, else under XDG_CACHE_HOME, else under ~/.cache', () => {
    assert.equal(cacheDir({ RSEQ_EMU_CACHE_DIR: '/x/y' }), '/x/y');
    assert.equal(cacheDir({ XDG_CACHE_HOME: '/c' }), '/c/rseq-emu');
    assert.match(cacheDir({}), /\/\.cache\/rseq-emu$/);
  });
});

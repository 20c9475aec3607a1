// The digest `npm run build` records in dist/sources.json and the launcher compares: it must change
// with anything the build compiles, and with nothing else.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceDigest } from '../../scripts/source-digest.mjs';

describe('the digest of the sources a build compiles', () => {
  let root = '';
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rseq-emu-digest-'));
    mkdirSync(join(root, 'src/cli'), { recursive: true });
    writeFileSync(join(root, 'src/cli/main.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'src/index.ts'), 'export * from "./cli/main.js";\n');
    writeFileSync(join(root, 'tsconfig.json'), '{}');
    writeFileSync(join(root, 'tsconfig.build.json'), '{"extends":"./tsconfig.json"}');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is the same for the same files, whatever their times', () => {
    const before = sourceDigest(root);
    utimesSync(join(root, 'src/index.ts'), new Date(0), new Date(0));
    assert.equal(sourceDigest(root), before);
  });

  it('changes when a source file changes', () => {
    const before = sourceDigest(root);
    writeFileSync(join(root, 'src/cli/main.ts'), 'export const a = 2;\n');
    assert.notEqual(sourceDigest(root), before);
  });

  it('changes when a source file is added', () => {
    const before = sourceDigest(root);
    writeFileSync(join(root, 'src/cli/extra.ts'), '');
    assert.notEqual(sourceDigest(root), before);
  });

  it('changes when a source file is renamed', () => {
    const before = sourceDigest(root);
    renameSync(join(root, 'src/cli/main.ts'), join(root, 'src/cli/main2.ts'));
    assert.notEqual(sourceDigest(root), before);
  });

  it('changes when a tsconfig changes', () => {
    const before = sourceDigest(root);
    writeFileSync(join(root, 'tsconfig.build.json'), '{"extends":"./tsconfig.json","compilerOptions":{}}');
    assert.notEqual(sourceDigest(root), before);
  });

  it('does not change with files outside what the build compiles', () => {
    const before = sourceDigest(root);
    mkdirSync(join(root, 'test'));
    writeFileSync(join(root, 'test/a.test.ts'), '');
    writeFileSync(join(root, 'README.md'), '');
    assert.equal(sourceDigest(root), before);
  });

  it('cannot be made equal by moving bytes from a file to its neighbour', () => {
    writeFileSync(join(root, 'src/cli/main.ts'), 'ab');
    writeFileSync(join(root, 'src/cli/z.ts'), 'c');
    const before = sourceDigest(root);
    writeFileSync(join(root, 'src/cli/main.ts'), 'a');
    writeFileSync(join(root, 'src/cli/z.ts'), 'bc');
    assert.notEqual(sourceDigest(root), before);
  });
});

// The digest `npm run build` records in dist/sources.json and the launcher compares: it must change
// with anything the build compiles, and with nothing else.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noteSourcesBefore, recordSources, sourceDigest, SOURCES_BEFORE, SOURCES_RECORD } from '../../scripts/source-digest.mjs';

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

  /** Whether the digest differs after `change`. */
  const changedBy = (change: () => void): boolean => {
    const before = sourceDigest(root);
    change();
    return sourceDigest(root) !== before;
  };

  it('is the same for the same files, whatever their times', () => {
    assert.equal(changedBy(() => utimesSync(join(root, 'src/index.ts'), new Date(0), new Date(0))), false);
  });

  it('changes when a source file changes', () => {
    assert.equal(changedBy(() => writeFileSync(join(root, 'src/cli/main.ts'), 'export const a = 2;\n')), true);
  });

  it('changes when a source file is added', () => {
    assert.equal(changedBy(() => writeFileSync(join(root, 'src/cli/extra.ts'), '')), true);
  });

  it('changes when a source file is renamed', () => {
    assert.equal(changedBy(() => renameSync(join(root, 'src/cli/main.ts'), join(root, 'src/cli/main2.ts'))), true);
  });

  it('changes when a tsconfig changes', () => {
    assert.equal(changedBy(() => writeFileSync(join(root, 'tsconfig.build.json'), '{"extends":"./tsconfig.json","compilerOptions":{}}')), true);
  });

  it('does not change with files outside what the build compiles', () => {
    const outside = () => {
      mkdirSync(join(root, 'test'));
      writeFileSync(join(root, 'test/a.test.ts'), '');
      writeFileSync(join(root, 'README.md'), '');
    };
    assert.equal(changedBy(outside), false);
  });

  it('cannot be made equal by moving bytes from a file to its neighbour', () => {
    writeFileSync(join(root, 'src/cli/main.ts'), 'ab');
    writeFileSync(join(root, 'src/cli/z.ts'), 'c');
    const moved = () => {
      writeFileSync(join(root, 'src/cli/main.ts'), 'a');
      writeFileSync(join(root, 'src/cli/z.ts'), 'bc');
    };
    assert.equal(changedBy(moved), true);
  });

  describe('as the build records it', () => {
    it('is recorded when the sources did not change while they were compiled', () => {
      noteSourcesBefore(root);
      assert.equal(recordSources(root), true);
      assert.equal(JSON.parse(readFileSync(join(root, SOURCES_RECORD), 'utf8')).digest, sourceDigest(root));
      assert.equal(existsSync(join(root, SOURCES_BEFORE)), false);
    });

    it('is not recorded when a source changed while they were compiled', () => {
      noteSourcesBefore(root);
      writeFileSync(join(root, 'src/cli/main.ts'), 'export const a = 3;\n');
      assert.equal(recordSources(root), false);
      assert.equal(existsSync(join(root, SOURCES_RECORD)), false);
    });

    it('is not recorded by a compile that noted no digest before it', () => {
      mkdirSync(join(root, 'dist'));
      assert.equal(recordSources(root), false);
      assert.equal(existsSync(join(root, SOURCES_RECORD)), false);
    });
  });
});

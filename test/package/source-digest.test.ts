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
});

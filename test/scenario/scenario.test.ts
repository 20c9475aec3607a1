// Scenario files: validation with the key path in every error, and JSON syntax errors located.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { jsonErrorAt } from '../../src/scenario/json-position.js';
import { parseThreadSpecs, scenarioFromJson } from '../../src/scenario/scenario.js';

const GOOD = readFileSync(new URL('../../examples/scenarios/counter-two-threads.json', import.meta.url), 'utf8');

describe('scenarios', () => {
  it('resolves the source relative to the scenario file', () => {
    assert.equal(scenarioFromJson(JSON.parse(GOOD), '/a/b/s.json').source, '/asm/counter_add.s');
  });
  it('reads arguments as numbers or region names with an offset', () => {
    const s = scenarioFromJson({ source: 'x.s', memory: { r: { size: 16 } }, threads: [{ entry: 'f', args: [1, '0x10', '-1', 'r+8'] }] }, 's.json');
    assert.deepEqual(s.threads[0]!.args, [
      { kind: 'number', value: 1n }, { kind: 'number', value: 16n }, { kind: 'number', value: -1n }, { kind: 'name', name: 'r', offset: 8n },
    ]);
  });
  const rejects: [string, unknown, RegExp][] = [
    ['an unknown key', { source: 'x.s', threads: [{ entry: 'f' }], thread: [] }, /s\.json: thread: unknown key/],
    ['a missing source', { threads: [{ entry: 'f' }] }, /s\.json: source: .* required/],
    ['no threads', { source: 'x.s', threads: [] }, /threads: expected a non-empty array/],
    ['a thread on a CPU that does not exist', { source: 'x.s', cpus: 2, threads: [{ entry: 'f', cpu: 2 }] }, /threads\[0\]\.cpu: must be 0 to 1, not 2/],
    ['more than six arguments', { source: 'x.s', threads: [{ entry: 'f', args: [1, 2, 3, 4, 5, 6, 7] }] }, /threads\[0\]\.args: at most 6/],
    ['init words that do not fit', { source: 'x.s', memory: { r: { size: 8, init: [1, 2] } }, threads: [{ entry: 'f' }] }, /memory\.r\.init: 2 words do not fit in 8 bytes/],
    ['an invariant on an unknown region', { source: 'x.s', threads: [{ entry: 'f' }], invariants: [{ region: 'q', sum64: 1 }] }, /invariants\[0\]\.region: no memory region 'q'/],
    ['a fractional number', { source: 'x.s', threads: [{ entry: 'f', args: [1.5] }] }, /threads\[0\]\.args\[0\]: expected a whole number, found 1\.5/],
    ['a negative time slice', { source: 'x.s', threads: [{ entry: 'f' }], timeSlice: -1 }, /s\.json: timeSlice: must be 0 to/],
  ];
  it('reads the time slice, 0 (no slices) included, and leaves it to the machine when absent', () => {
    assert.equal(scenarioFromJson({ source: 'x.s', threads: [{ entry: 'f' }], timeSlice: 0 }, 's.json').timeSlice, 0);
    assert.equal(scenarioFromJson({ source: 'x.s', threads: [{ entry: 'f' }], timeSlice: 250 }, 's.json').timeSlice, 250);
    assert.equal(scenarioFromJson({ source: 'x.s', threads: [{ entry: 'f' }] }, 's.json').timeSlice, undefined);
  });
  for (const [what, json, message] of rejects) {
    it(`rejects ${what}, naming the key`, () => assert.throws(() => scenarioFromJson(json, 's.json'), message));
  }
  it('parses --threads specs with arguments, CPU and repeat count', () => {
    assert.deepEqual(parseThreadSpecs('f(r, 3)@1*4;g', 2).map((t) => [t.entry, t.args.length, t.cpu, t.repeat]), [['f', 2, 1, 4], ['g', 0, 0, 1]]);
  });
  it('refuses a --threads spec for a CPU that does not exist', () => {
    assert.throws(() => parseThreadSpecs('f@3', 2), /--threads item 1 'f@3': CPU 3 does not exist/);
  });
});

describe('locating JSON syntax errors', () => {
  it('accepts every text JSON.parse accepts and rejects every text it rejects, over mutations of a scenario', () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const alphabet = '{}[]:,"0123456789-.eE truefalsn\\\n';
    for (let k = 0; k < 2000; k++) {
      const chars = [...GOOD];
      for (let m = 1 + rand(3); m > 0; m--) {
        const at = rand(chars.length);
        const op = rand(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[rand(alphabet.length)]!);
        else chars[at] = alphabet[rand(alphabet.length)]!;
      }
      const text = chars.join('');
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      assert.equal(jsonErrorAt(text) === null, valid, text);
    }
  });
  it('points at the offending character', () => {
    assert.deepEqual(jsonErrorAt('{"a": [1, }'), { offset: 10, message: "unexpected '}'" });
  });
});

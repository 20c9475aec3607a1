// The warm-up bench's reading of V8's --trace-opt / --trace-deopt output (bench/warmup.bench.ts).
import { strict as assert } from 'node:assert';
import { compileCounts } from '../../bench/warmup.bench.js';

const TRACE = `
[completed compiling 0x2cb4919a0369 <JSFunction getPathFromURLPosix (sfi = 0x3f907a5a5579)> (target TURBOFAN) - took 0.083, 17.982, 0.143 ms]
[completed optimizing 0x2cb4919a0369 <JSFunction getPathFromURLPosix (sfi = 0x3f907a5a5579)> (target TURBOFAN)]
[completed compiling 0x368e119a1ef9 <JSFunction get protocol (sfi = 0x3f907a5a45d1)> (target TURBOFAN) - took 0.022, 1.629, 0.035 ms]
[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x368e119a1ef9 <JSFunction get protocol (sfi = 0x3f907a5a45d1)>, 0x1 <Code TURBOFAN>, opt id 7]
[completed compiling 0x368e119a1ef9 <JSFunction get protocol (sfi = 0x3f907a5a45d1)> (target TURBOFAN) - took 0.010, 1.000, 0.010 ms]
[completed compiling 0x777 <JSFunction get protocol (sfi = 0x4444)> (target TURBOFAN) - took 0, 1, 0 ms]
`;

describe('warm-up bench', () => {
  it('counts a function compiled again after a deopt as a recompile, telling functions of one name apart', () => {
    const c = compileCounts(TRACE);
    assert.equal(c.compiles, 4);
    assert.equal(c.recompiles, 1);
    assert.equal(c.deopts, 1);
    assert.ok(Math.abs(c.compileMs - (18.208 + 1.686 + 1.02 + 1)) < 1e-9);
  });
});

// `node --import tsx bench/explore-space.ts [NAME.json...]`: the K = 2 schedule count and time of
// every bundled scenario, or of those named (CPU heavy: a few minutes on one core).
import { benchExploreSpace } from './explore.bench.js';

for (const [name, value] of Object.entries(await benchExploreSpace(process.argv.slice(2)))) console.log(`${name.padEnd(56)} ${value.toFixed(name.includes('seconds') ? 1 : 0)}`);

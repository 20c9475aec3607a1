// `node --import tsx bench/explore-space.ts`: the K = 2 schedule count and time of every bundled
// scenario (CPU heavy: about a minute on one core).
import { benchExploreSpace } from './explore.bench.js';

for (const [name, value] of Object.entries(await benchExploreSpace())) console.log(`${name.padEnd(56)} ${value.toFixed(name.includes('seconds') ? 1 : 0)}`);

// Worker threads do not inherit a TypeScript loader registered through tsx's API: register it, then load the worker.
import { register } from 'tsx/esm/api';

register();
await import('./explore-worker.ts');

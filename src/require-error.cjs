// rseq-emu is an ES module; `require('rseq-emu')` lands here and says what to do instead.
throw new Error("rseq-emu is an ES module: use `import { ... } from 'rseq-emu'` (or `await import('rseq-emu')` from CommonJS)");

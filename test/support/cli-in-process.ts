// rseq-emu's command run in this process, its output captured. runCli is imported dynamically, as it
// imports its commands: mixing mocha's static imports of TypeScript with dynamic ones would load two
// copies of a module (and the emulator's bindings twice).
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { runCli } = await import('../../src/cli/main.js');
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), progress: () => {} });
  return { code, out, err };
}

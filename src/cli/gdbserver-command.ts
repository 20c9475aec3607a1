// `rseq-emu gdbserver`: the emulated machine as a gdb remote target. Writes an ELF of the image
// (for gdb's symbols and line tables), says how to attach, then serves one connection on
// 127.0.0.1 or on stdin/stdout.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { findSymbol } from '../asm/image.js';
import { loadCapstone } from '../asm/capstone.js';
import { DebugSession, type SteppingStrategy } from '../debug/session.js';
import { writeElf } from '../elf/writer.js';
import { RseqEmuError, usageError } from '../errors.js';
import { GdbProtocol } from '../gdb/protocol.js';
import { parseListen, serveConnection, serveTcp } from '../gdb/server.js';
import { SessionTarget } from '../gdb/session-target.js';
import { loadProgram } from '../program.js';
import { all, one, parseArgs } from './args.js';
import { profileFromArgs, scenarioFromArgs } from './scenario-args.js';
import { GDBSERVER_USAGE } from './usage.js';


const SPEC = {
  entry: { value: true }, arg: { value: true, repeat: true }, memory: { value: true, repeat: true }, cpus: { value: true },
  listen: { value: true }, stdio: {}, elf: { value: true }, profile: { value: true }, stepping: { value: true }, 'max-insns': { value: true },
};

const quote = (s: string) => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function gdbserverCommand(argv: readonly string[], note: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, SPEC);
  if (a.positionals.length !== 1) throw usageError(`usage: ${GDBSERVER_USAGE}`);
  const file = a.positionals[0]!;
  const isScenario = file.endsWith('.json');
  if (!isScenario && one(a, 'entry') === undefined) throw usageError('give --entry SYM (or a scenario file)');
  if (a.flags.has('stdio') && a.options.has('listen')) throw usageError('give --listen or --stdio, not both');
  const stepping = one(a, 'stepping') ?? 'linux';
  if (stepping !== 'linux' && stepping !== 'rseq-aware') throw usageError(`--stepping must be linux or rseq-aware, not '${stepping}'`);
  const listen = a.flags.has('stdio') ? null : parseListen(one(a, 'listen') ?? '0');
  const scenario = await scenarioFromArgs(file, a);
  const profile = profileFromArgs(a, scenario);
  const image = await loadProgram(scenario.source);
  await loadCapstone();
  const entryName = one(a, 'entry') ?? scenario.threads[0]?.entry;
  const target = isScenario ? { scenario } : { entry: one(a, 'entry')!, args: all(a, 'arg'), memory: scenario.memory };
  const options = { profile, strategy: stepping as SteppingStrategy, ...(scenario.maxInstructions !== undefined ? { maxInstructions: scenario.maxInstructions } : {}) };
  const session = DebugSession.create(image, target, options);
  try {
    const elfPath = one(a, 'elf') ?? join(mkdtempSync(join(tmpdir(), 'rseq-emu-gdb-')), basename(image.file).replace(/\.[^.]*$/, '') + '.elf');
    try {
      const regions = [...session.machine.regions].map(([name, r]) => ({ name, address: r.address, size: r.size }));
      writeFileSync(elfPath, writeElf(image, { compDir: process.cwd(), entry: (entryName && findSymbol(image, entryName)?.address) || 0n, regions }));
    } catch (e) {
      throw new RseqEmuError('INPUT', `cannot write ${elfPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const protocol = new GdbProtocol(new SessionTarget(session));
    if (listen === null) {
      note(`rseq-emu gdbserver: ELF with symbols and line tables in ${elfPath}; attach with: gdb ${quote(elfPath)} -ex 'target remote | rseq-emu gdbserver --stdio ${argv.filter((x) => x !== '--stdio').map(quote).join(' ')}'\n`);
      await serveConnection(protocol, process.stdin, process.stdout);
    } else {
      await serveTcp(protocol, listen.port, (port) => note(`rseq-emu gdbserver: listening on 127.0.0.1:${port}; attach with: gdb ${quote(elfPath)} -ex 'target remote 127.0.0.1:${port}'\n`));
    }
    return 0;
  } finally {
    session.close();
  }
}

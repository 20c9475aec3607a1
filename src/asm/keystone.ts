// Keystone (wasm) as a one-instruction encoder. Only instruction text ever reaches it: sections,
// labels, alignment and data are ours (see shared/notes/dependencies.md for why). A wasm trap
// leaves the module unusable, so a trapped module is discarded and the next call loads a new one.
import { createRequire } from 'node:module';
import type { Syntax } from './operands.js';

const require = createRequire(import.meta.url);

interface KeystoneModule {
  Keystone: new (arch: number, mode: number) => KeystoneHandle;
  ARCH_X86: number;
  MODE_64: number;
  OPT_SYNTAX: number;
  OPT_SYNTAX_ATT: number;
  OPT_SYNTAX_INTEL: number;
  strerror(code: number): string;
}
interface KeystoneHandle {
  option(opt: number, value: number): void;
  asm(text: string, address: number | bigint): { mc: Uint8Array; count: number; failed: boolean };
  errno(): number;
  close(): void;
}

export type EncodeResult = { ok: true; bytes: Uint8Array } | { ok: false; message: string };

/** What the front end needs from an encoder: one instruction's bytes at an address. */
export interface InstructionEncoder {
  encode(text: string, address: bigint, syntax: Syntax): Promise<EncodeResult>;
}

export class KeystoneEncoder implements InstructionEncoder {
  private handles: Partial<Record<Syntax, KeystoneHandle>> = {};

  private constructor(private module: KeystoneModule) {}

  static async load(): Promise<KeystoneEncoder> {
    return new KeystoneEncoder(await loadModule());
  }

  /** Encodes exactly one instruction at `address`. */
  async encode(text: string, address: bigint, syntax: Syntax): Promise<EncodeResult> {
    try {
      const ks = this.handle(syntax);
      const r = ks.asm(text, address);
      if (r.failed || r.mc.length === 0) {
        const code = ks.errno();
        // Some invalid operand combinations (`movl %eax, %rbx`) fail without an error code.
        const why = code === 0 ? 'invalid operands for this instruction' : `${this.module.strerror(code)} (errno ${code})`;
        return { ok: false, message: `Keystone cannot encode '${text}': ${why}` };
      }
      return { ok: true, bytes: Uint8Array.from(r.mc) };
    } catch (e) {
      // A trap inside the wasm module: replace the module before anyone uses it again.
      this.handles = {};
      this.module = await loadModule();
      return { ok: false, message: `Keystone crashed on '${text}' (${e instanceof Error ? e.message : String(e)}); the instance was replaced` };
    }
  }

  private handle(syntax: Syntax): KeystoneHandle {
    let h = this.handles[syntax];
    if (!h) {
      h = new this.module.Keystone(this.module.ARCH_X86, this.module.MODE_64);
      h.option(this.module.OPT_SYNTAX, syntax === 'att' ? this.module.OPT_SYNTAX_ATT : this.module.OPT_SYNTAX_INTEL);
      this.handles[syntax] = h;
    }
    return h;
  }
}

async function loadModule(): Promise<KeystoneModule> {
  const factory = require('@alexaltea/keystone-js') as () => Promise<KeystoneModule>;
  return factory();
}

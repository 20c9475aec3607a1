// Remote serial protocol framing (gdb manual, "Overview" of Remote Protocol): `$data#cs` packets
// with a modulo-256 checksum, `+`/`-` acknowledgements, `\x03` interrupts, `}` escapes in binary
// data. Bytes are kept as latin1 strings so binary `X` payloads pass through unchanged.

export type Incoming =
  | { kind: 'packet'; data: string }
  | { kind: 'bad-checksum' }
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'interrupt' };

/** Longest packet body accepted (what qSupported advertises, plus room for escapes). */
export const MAX_PACKET = 0x4000;

export function checksum(data: string): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum;
}

/** A packet on the wire, with `$ # } *` in the body escaped (`}` then the byte xor 0x20). */
export function encodePacket(data: string): string {
  const body = data.replace(/[$#}*]/g, (c) => '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20));
  return `$${body}#${checksum(body).toString(16).padStart(2, '0')}`;
}

/** Undoes `}` escapes in a packet body (binary data of `X`). */
export function unescapeBinary(data: string): string {
  return data.replace(/\}([\s\S])/g, (_, c: string) => String.fromCharCode(c.charCodeAt(0) ^ 0x20));
}

/**
 * Splits a byte stream into protocol units. Garbage between packets is skipped; an over-long packet
 * or a bad checksum yields `bad-checksum` (the caller answers `-`), so no input can grow memory
 * without bound or wedge the decoder.
 */
export class PacketDecoder {
  private pending = '';

  push(chunk: string): Incoming[] {
    this.pending += chunk;
    const out: Incoming[] = [];
    for (;;) {
      const start = this.pending.search(/[$+\-\x03]/);
      if (start < 0) {
        this.pending = '';
        return out;
      }
      const c = this.pending[start]!;
      if (c !== '$') {
        out.push(c === '+' ? { kind: 'ack' } : c === '-' ? { kind: 'nak' } : { kind: 'interrupt' });
        this.pending = this.pending.slice(start + 1);
        continue;
      }
      const hash = this.pending.indexOf('#', start + 1);
      if (hash < 0 || hash + 3 > this.pending.length) {
        this.pending = this.pending.slice(start);
        if (this.pending.length > MAX_PACKET + 4) {
          this.pending = this.pending.slice(1);
          out.push({ kind: 'bad-checksum' });
          continue;
        }
        return out;
      }
      const body = this.pending.slice(start + 1, hash);
      const sent = this.pending.slice(hash + 1, hash + 3);
      this.pending = this.pending.slice(hash + 3);
      out.push(/^[0-9a-fA-F]{2}$/.test(sent) && parseInt(sent, 16) === checksum(body) && body.length <= MAX_PACKET ? { kind: 'packet', data: body } : { kind: 'bad-checksum' });
    }
  }

  /** Whether a packet has started but not ended (a disconnect now cuts it). */
  get partial(): boolean {
    return this.pending.length > 0;
  }
}

// ---- hex helpers the packet bodies use ----

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Parses even-length hex, or returns null for anything else. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** A little-endian value of `bytes` bytes as target-order hex, as `g` and `p` send registers. */
export function leHex(value: bigint, bytes: number): string {
  let v = BigInt.asUintN(bytes * 8, value);
  let out = '';
  for (let i = 0; i < bytes; i++, v >>= 8n) out += Number(v & 0xffn).toString(16).padStart(2, '0');
  return out;
}

export function fromLeHex(text: string): bigint | null {
  const b = fromHex(text);
  if (!b) return null;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** A hex number field (`addr`, `length`, thread id); null if it is not one. */
export function hexNumber(text: string | undefined): bigint | null {
  return text !== undefined && /^[0-9a-fA-F]{1,16}$/.test(text) ? BigInt('0x' + text) : null;
}

export const asciiHex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

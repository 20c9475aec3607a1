// Typed errors with stable codes. Every error the user can cause carries a location
// (source position or address), so the CLI prints one clear line and exits 2.
import { formatLocation, hex, type Address, type SourceLocation } from './types.js';

export type ErrorCode =
  | 'ASM_SYNTAX'        // the source could not be parsed
  | 'ASM_DIRECTIVE'     // a directive is unknown or has bad operands
  | 'ASM_SYMBOL'        // an undefined, duplicate or unresolvable symbol
  | 'ASM_ENCODE'        // Keystone refused or mis-encoded an instruction
  | 'ASM_RANGE'         // a value does not fit its field
  | 'ENGINE'            // Unicorn returned an error
  | 'ENGINE_LOAD'       // libunicorn could not be loaded
  | 'MEMORY'            // an address is not mapped or not accessible
  | 'USAGE'             // bad command-line or API arguments
  | 'LOCATION'          // an event location that names nothing
  | 'INPUT';            // a file that cannot be read or parsed

export class RseqEmuError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly location?: SourceLocation,
    readonly address?: Address,
  ) {
    super(message);
    this.name = 'RseqEmuError';
  }

  /** One line: `file:line:col: message` or `0xaddr: message`. */
  oneLine(): string {
    if (this.location) return `${formatLocation(this.location)}: ${this.message}`;
    if (this.address !== undefined) return `${hex(this.address)}: ${this.message}`;
    return this.message;
  }
}

export const asmError = (code: ErrorCode, message: string, location: SourceLocation): RseqEmuError =>
  new RseqEmuError(code, message, location);

export const usageError = (message: string): RseqEmuError => new RseqEmuError('USAGE', message);

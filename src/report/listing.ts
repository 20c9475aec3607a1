// `rseq-emu disasm`: the Capstone listing of every executable section, with labels, source lines
// and each critical section's start, commit, post-commit point, abort handler and signature marked.
import { disassembleSync } from '../asm/capstone.js';
import { carrierOf, describeCarrier, signatureCarrier } from '../abi/signature-form.js';
import { imageBytes, symbolize, type Image, type ImageSection } from '../asm/image.js';
import { RSEQ_SIG } from '../abi/rseq.js';
import type { CriticalSection, RseqTables } from '../abi/tables.js';
import { formatLocation, hex, hexBytes, type Address } from '../types.js';
import { SectionMarks, instructionText } from './annotate.js';

/** `0x53053053 (ud1 form)`, `0x53053054 (expected 0x53053053)`, or why it cannot be read. */
export function describeSignature(image: Image, cs: CriticalSection, sig = RSEQ_SIG): string {
  const four = imageBytes(image, cs.abortIp - 4n, 4);
  if (!four) return 'unreadable (abort_ip - 4 is outside the image)';
  const value = new DataView(four.buffer, four.byteOffset, 4).getUint32(0, true);
  const carrier = signatureCarrier(image, cs.abortIp - 4n);
  const form = carrier === null ? '' : ` (${describeCarrier(carrier)})`;
  const shown = `0x${value.toString(16).padStart(8, '0')}`;
  return value === sig >>> 0 ? shown + form : `${shown} (expected 0x${(sig >>> 0).toString(16)})`;
}

export function sectionSummary(image: Image, tables: RseqTables): string[] {
  const marks = new SectionMarks(image, tables.sections);
  const where = (a: Address) => `${hex(a)} <${symbolize(image, a)}>`;
  const lines = [`${image.file}: ${tables.sections.length} critical section${tables.sections.length === 1 ? '' : 's'}`];
  tables.sections.forEach((cs, i) => {
    const commit = marks.commitOf(cs);
    lines.push(
      `  cs${i}  descriptor ${where(cs.descriptor)} version ${cs.version} flags ${cs.flags}`,
      `       start ${where(cs.startIp)}  post-commit ${where(cs.postCommitIp)} (+${cs.postCommitOffset})`,
      `       commit ${commit === null ? 'none (no instruction ends at the post-commit address)' : where(commit)}  abort ${where(cs.abortIp)}`,
      `       signature ${describeSignature(image, cs)}  listed in ${cs.listedIn.join(', ')}`,
    );
  });
  for (const p of tables.problems) lines.push(`  problem: ${p.message}`);
  return lines;
}

/** One line of a listing: an instruction, data (a signature shown as the instruction it forms), or padding. */
export interface ListingRow {
  address: Address;
  kind: 'instruction' | 'data' | 'padding';
  bytes: Uint8Array;
  /** Capstone's text (with symbols), the signature's carrier, or the data directive. */
  text: string;
  /** Labels defined at this address. */
  labels: string[];
  /** rseq marks such as `cs0:start`, `cs0:commit`. */
  marks: string[];
  source: string;
}

/** The rows of one executable section, in address order. */
export function listingRows(image: Image, s: ImageSection, marks: SectionMarks): ListingRow[] {
  const out: ListingRow[] = [];
  const labels = new Map<Address, string[]>();
  for (const sym of image.symbols) {
    if (sym.kind !== 'label' || sym.section !== s.name || sym.instance !== undefined) continue;
    labels.set(sym.address, [...(labels.get(sym.address) ?? []), sym.name]);
  }
  const lines = image.lines.filter((l) => l.address >= s.address && l.address < s.address + BigInt(s.bytes.length));
  let covered = s.address;
  for (const line of lines) {
    if (line.address < covered) continue; // consumed by a signature spanning two data lines
    const off = Number(line.address - s.address);
    const seven = off + 7 <= s.bytes.length ? s.bytes.subarray(off, off + 7) : null;
    const carrier = seven && line.kind === 'data' ? carrierOf(seven, line.address) : null;
    let size = line.size;
    let text: string;
    if (line.kind === 'instruction') {
      const [d] = disassembleSync(s.bytes.subarray(off, off + line.size), line.address, 1);
      text = d ? instructionText(image, d) : '(undecodable)';
    } else if (carrier !== null && carrier.kind !== 'data') {
      size = 7; // a signature and what carries it, shown as the instruction they form
      text = carrier.text;
    } else {
      text = line.kind === 'padding' ? '(padding)' : line.text;
    }
    out.push({ address: line.address, kind: line.kind, bytes: s.bytes.subarray(off, off + size), text, labels: labels.get(line.address) ?? [], marks: marks.at(line.address), source: formatLocation(line.loc) });
    covered = line.address + BigInt(size);
  }
  return out;
}

function listSection(image: Image, s: ImageSection, marks: SectionMarks): string[] {
  const perms = `r${s.flags.write ? 'w' : '-'}${s.flags.exec ? 'x' : '-'}`;
  const out = [`section ${s.name} (${hex(s.address)}, ${s.bytes.length} bytes, ${perms})`];
  for (const row of listingRows(image, s, marks)) {
    for (const name of row.labels) out.push(`${name}:`);
    const shownBytes = hexBytes(row.bytes.subarray(0, 10)) + (row.bytes.length > 10 ? ' …' : '');
    const m = row.marks;
    out.push(`  ${hex(row.address)}  ${shownBytes.padEnd(31)} ${row.text.padEnd(58)} ${m.length ? `[${m.join(' ')}] ` : ''}${row.source}`);
  }
  return out;
}

export function disassemblyListing(image: Image, tables: RseqTables): string {
  const marks = new SectionMarks(image, tables.sections);
  const out = sectionSummary(image, tables);
  for (const s of image.sections) if (s.flags.exec && s.bytes.length > 0) out.push('', ...listSection(image, s, marks));
  return out.join('\n') + '\n';
}

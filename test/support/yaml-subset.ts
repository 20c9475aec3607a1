// A reader for the block-style YAML subset the examples use (Kubernetes manifests, GitHub Actions
// workflows): mappings, sequences (`- item`, `- key: value`), block scalars (`|`), flow sequences
// of scalars (`[a, b]`), double-quoted strings, numbers, booleans, comment lines and `---` between
// documents. Anything else is an error naming the line, so an example that leaves the subset fails
// its test instead of being misread. No YAML library is a dependency of the project.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  /** 1-based, for errors. */
  no: number;
}

const fail = (line: Line | undefined, why: string): Error => new Error(line ? `line ${line.no}: ${why}: ${line.text}` : why);

function scalar(text: string, line: Line): YamlValue {
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw fail(line, 'unterminated string');
    return JSON.parse(text) as string;
  }
  if (text.startsWith("'") || text.startsWith('{') || text.startsWith('&') || text.startsWith('*') || text.startsWith('>')) throw fail(line, 'outside the subset');
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw fail(line, 'unterminated flow sequence');
    const inner = text.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((t) => scalar(t.trim(), line));
  }
  if (/ #/.test(text)) throw fail(line, 'a comment after a value is outside the subset');
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^-?[0-9]+(\.[0-9]+)?$/.test(text)) return Number(text);
  return text;
}

/** Comment lines and blank lines carry nothing outside a block scalar (which keeps them). */
const isBlank = (l: Line) => l.text === '' || l.text.startsWith('#');

class Reader {
  private at = 0;
  constructor(private readonly lines: Line[]) {}

  document(): YamlValue {
    this.skip();
    const v = this.block(this.lines[this.at]?.indent ?? 0);
    this.skip();
    if (this.at < this.lines.length) throw fail(this.lines[this.at], 'unexpected indentation');
    return v;
  }

  private skip(): void {
    while (this.at < this.lines.length && isBlank(this.lines[this.at]!)) this.at++;
  }

  /** The next line with content, at this indentation. */
  private next(indent: number): Line | undefined {
    this.skip();
    const l = this.lines[this.at];
    return l && l.indent === indent ? l : undefined;
  }

  private block(indent: number): YamlValue {
    const first = this.next(indent);
    if (!first) throw fail(this.lines[this.at], `expected a block at column ${indent + 1}`);
    return first.text.startsWith('- ') || first.text === '-' ? this.sequence(indent) : this.mapping(indent);
  }

  private mapping(indent: number): YamlValue {
    const out: { [key: string]: YamlValue } = {};
    for (let line = this.next(indent); line && !line.text.startsWith('- '); line = this.next(indent)) {
      const m = /^([A-Za-z0-9_.\-/$]+|"[^"]*"):(?: (.*))?$/.exec(line.text);
      if (!m) throw fail(line, 'expected KEY: VALUE');
      const key = m[1]!.startsWith('"') ? (JSON.parse(m[1]!) as string) : m[1]!;
      if (key in out) throw fail(line, `duplicate key '${key}'`);
      this.at++;
      out[key] = this.value((m[2] ?? '').trim(), indent, line);
    }
    return out;
  }

  private sequence(indent: number): YamlValue {
    const out: YamlValue[] = [];
    for (let line = this.next(indent); line && (line.text.startsWith('- ') || line.text === '-'); line = this.next(indent)) {
      const rest = line.text.slice(1).trim();
      if (/^([A-Za-z0-9_.\-/$]+|"[^"]*"):( |$)/.test(rest)) {
        // `- key: value`: a mapping whose keys line up with this first one.
        this.lines[this.at] = { indent: indent + 2, text: rest, no: line.no };
        out.push(this.mapping(indent + 2));
      } else {
        this.at++;
        out.push(this.value(rest, indent, line));
      }
    }
    return out;
  }

  /** What follows `key:` or `-` on a line at `indent`: a scalar, a block scalar, or a nested block. */
  private value(rest: string, indent: number, line: Line): YamlValue {
    if (rest === '|') return this.blockScalar(indent, line);
    if (rest !== '') return scalar(rest, line);
    this.skip();
    const next = this.lines[this.at];
    if (next && (next.indent > indent || (next.indent === indent && next.text.startsWith('- ')))) return this.block(next.indent);
    return null;
  }

  /** The lines indented more than the key (blank ones included), dedented by the first one's indentation. */
  private blockScalar(indent: number, line: Line): string {
    const body: Line[] = [];
    while (this.at < this.lines.length && (this.lines[this.at]!.indent > indent || this.lines[this.at]!.text === '')) body.push(this.lines[this.at++]!);
    while (body.length && body[body.length - 1]!.text === '') body.pop();
    if (!body.length) throw fail(line, 'empty block scalar');
    const strip = body[0]!.indent;
    return body.map((l) => (l.text === '' ? '' : ' '.repeat(l.indent - strip) + l.text)).join('\n') + '\n';
  }
}

/** Every document of `text` (documents are separated by `---` lines). */
export function readYaml(text: string): YamlValue[] {
  const docs: Line[][] = [[]];
  text.split('\n').forEach((raw, i) => {
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: a tab`);
    if (raw === '---') docs.push([]);
    else docs[docs.length - 1]!.push({ indent: raw.length - raw.trimStart().length, text: raw.trim(), no: i + 1 });
  });
  return docs.filter((d) => !d.every(isBlank)).map((d) => new Reader(d).document());
}

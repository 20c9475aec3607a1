// Where JSON text first goes wrong. Node's JSON.parse names no position for many errors, and its
// message quotes the text (newlines included); this scanner finds the offending offset instead.

const LITERAL = /true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/**
 * The offset of the first syntax error and what was expected there, or null for valid JSON.
 * Nesting deeper than `maxDepth` is an error too, found before JSON.parse (or any recursive
 * reader) could run out of stack; sticky regexes keep the scan linear in the text's length.
 */
export function jsonErrorAt(text: string, maxDepth = Infinity): { offset: number; message: string } | null {
  let i = 0;
  let depth = 0;
  const sticky = (re: RegExp): string | null => {
    re.lastIndex = i;
    const m = re.exec(text);
    return m ? m[0] : null;
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const err = (message: string) => ({ offset: i, message });
  const value = (): { offset: number; message: string } | null => {
    ws();
    const ch = text[i];
    if (ch === '{') return container('}', true);
    if (ch === '[') return container(']', false);
    if (ch === '"') return string();
    const lit = sticky(LITERAL);
    if (lit !== null) {
      i += lit.length;
      return null;
    }
    return err(ch === undefined ? 'unexpected end of input' : `unexpected '${ch}'`);
  };
  const string = () => {
    const m = sticky(STRING);
    if (m === null) return err('bad string');
    i += m.length;
    return null;
  };
  const container = (close: string, object: boolean): { offset: number; message: string } | null => {
    if (++depth > maxDepth) return err(`nested deeper than ${maxDepth} levels`);
    const e = members(close, object);
    depth--;
    return e;
  };
  const members = (close: string, object: boolean) => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return null;
    }
    for (;;) {
      if (object) {
        ws();
        if (text[i] !== '"') return err(`expected a "key" or '${close}'`);
        const e = string();
        if (e) return e;
        ws();
        if (text[i] !== ':') return err("expected ':'");
        i++;
      }
      const e = value();
      if (e) return e;
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return null;
      }
      return err(`expected ',' or '${close}'`);
    }
  };
  const e = value();
  if (e) return e;
  ws();
  return i < text.length ? err('unexpected text after the JSON value') : null;
}

// Where JSON text first goes wrong. Node's JSON.parse names no position for many errors, and its
// message quotes the text (newlines included); this scanner finds the offending offset instead.

/** The offset of the first syntax error and what was expected there, or null for valid JSON. */
export function jsonErrorAt(text: string): { offset: number; message: string } | null {
  let i = 0;
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
    const lit = /^(true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)/.exec(text.slice(i));
    if (lit) {
      i += lit[0].length;
      return null;
    }
    return err(ch === undefined ? 'unexpected end of input' : `unexpected '${ch}'`);
  };
  const string = () => {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!m) return err('bad string');
    i += m[0].length;
    return null;
  };
  const container = (close: string, object: boolean) => {
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

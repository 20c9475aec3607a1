// One text per value, for hashing machine state: equal values (arrays, plain objects in their
// property order, Maps and Sets in their order, bigints, byte arrays, numbers, strings, booleans,
// null and undefined) give equal texts, different ones different texts. JSON.stringify with a
// replacer for bigints cost a tenth of an explored schedule; v8.serialize is faster but not
// canonical (it writes an array with holes in its history differently from an equal dense one).
export function canonicalText(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object': {
      if (value === null) return 'n';
      if (Array.isArray(value)) {
        let s = '[';
        for (let i = 0; i < value.length; i++) s += (i ? ',' : '') + canonicalText(value[i]);
        return `${s}]`;
      }
      if (value instanceof Uint8Array) return `b${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
      if (value instanceof Map) return `M${canonicalText([...value])}`;
      if (value instanceof Set) return `S${canonicalText([...value])}`;
      let s = '{';
      let first = true;
      for (const k in value) {
        if (!Object.hasOwn(value, k)) continue;
        s += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalText((value as Record<string, unknown>)[k])}`;
        first = false;
      }
      return `${s}}`;
    }
    default:
      throw new Error(`canonicalText: cannot represent a ${typeof value}`);
  }
}

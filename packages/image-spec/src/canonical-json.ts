import { ImageSpecError } from './errors.js';

/**
 * Serialises `value` as canonical JSON: object keys sorted by UTF-16 code unit order, no
 * whitespace, `undefined` members dropped, so that equal documents give equal bytes and digests.
 * Strings are escaped as `JSON.stringify` does. Raises `INVALID_JSON_VALUE` on a value JSON cannot
 * hold (non-finite number, bigint, function, symbol, cycle).
 */
export function canonicalJson(value: unknown): string {
  const text = serialise(value, '$', new Set());
  if (text === undefined) {
    throw new ImageSpecError(
      'INVALID_JSON_VALUE',
      'serialising canonical JSON at $: the top-level value is undefined',
    );
  }
  return text;
}

/** Serialises one value at `path`, returning undefined for members that JSON leaves out. */
function serialise(value: unknown, path: string, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw invalid(path, `number ${value} is not finite`);
      }
      return JSON.stringify(value);
    case 'bigint':
    case 'function':
    case 'symbol':
      throw invalid(path, `a ${typeof value} has no JSON form`);
  }

  if (value === null) {
    return 'null';
  }
  const object = value as object;
  if (ancestors.has(object)) {
    throw invalid(path, 'the value refers to itself');
  }

  // Dates and other objects with toJSON serialise as whatever toJSON returns, as JSON.stringify does.
  const withToJson = object as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') {
    return serialise(withToJson.toJSON(), path, ancestors);
  }

  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      // Array holes and undefined items become null, because removing them would shift indices.
      const items = Array.from(
        object,
        (item, index) => serialise(item, `${path}[${index}]`, ancestors) ?? 'null',
      );
      return `[${items.join(',')}]`;
    }

    const record = object as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = serialise(record[key], `${path}.${key}`, ancestors);
      if (member !== undefined) {
        members.push(`${JSON.stringify(key)}:${member}`);
      }
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}

function invalid(path: string, cause: string): ImageSpecError {
  return new ImageSpecError(
    'INVALID_JSON_VALUE',
    `serialising canonical JSON at ${path}: ${cause}`,
  );
}

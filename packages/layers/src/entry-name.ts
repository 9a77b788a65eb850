/**
 * A name in the layer or a path on disk. It is a string when its bytes are valid UTF-8 and the raw
 * bytes otherwise, because Linux file names are bytes and a string cannot carry every byte.
 */
export type EntryName = string | Buffer;

// ignoreBOM keeps a leading U+FEFF as part of the name instead of dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes a name read from disk, keeping the bytes when they are not valid UTF-8. */
export function decodeName(raw: Buffer): EntryName {
  try {
    return utf8.decode(raw);
  } catch {
    return Buffer.from(raw);
  }
}

/** Joins a parent path and a child name with `/`. */
export function joinName(parent: EntryName, child: EntryName): EntryName {
  if (typeof parent === 'string' && typeof child === 'string') {
    return `${parent}/${child}`;
  }
  return Buffer.concat([nameBytes(parent), Buffer.from('/'), nameBytes(child)]);
}

/** Returns the bytes of a name. */
export function nameBytes(name: EntryName): Buffer {
  return typeof name === 'string' ? Buffer.from(name) : name;
}

/** Renders a name for messages: UTF-8 names as they are, other bytes as `\xNN`. */
export function displayName(name: EntryName): string {
  if (typeof name === 'string') {
    return name;
  }
  return Array.from(name, (byte) =>
    byte >= 0x20 && byte < 0x7f
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, '0')}`,
  ).join('');
}

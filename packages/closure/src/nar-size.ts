// A NAR (Nix ARchive) is a sequence of strings, each an unsigned 64-bit little-endian length
// followed by the bytes, padded with zeros to a multiple of 8. These sizes follow the layout
// that `nix-store --dump` writes.

/** Returns the bytes that a NAR string of `length` bytes takes: length field, bytes and padding. */
export function narStringSize(length: number): number {
  return 8 + Math.ceil(length / 8) * 8;
}

const token = (text: string): number => narStringSize(Buffer.byteLength(text));

/** Bytes of the `nix-archive-1` magic string at the start of every NAR. */
export const narMagicSize = token('nix-archive-1');

/** Bytes of a regular file's node: `( type regular [executable ""] contents <bytes> )`. */
export function narRegularSize(contentLength: number, executable: boolean): number {
  return (
    token('(') +
    token('type') +
    token('regular') +
    (executable ? token('executable') + token('') : 0) +
    token('contents') +
    narStringSize(contentLength) +
    token(')')
  );
}

/** Bytes of a symbolic link's node: `( type symlink target <target> )`. */
export function narSymlinkSize(targetLength: number): number {
  return (
    token('(') +
    token('type') +
    token('symlink') +
    token('target') +
    narStringSize(targetLength) +
    token(')')
  );
}

/** Bytes of a folder's node without its entries: `( type directory … )`. */
export const narDirectorySize = token('(') + token('type') + token('directory') + token(')');

/** Bytes that wrap one folder entry around its node: `entry ( name <name> node … )`. */
export function narEntrySize(nameLength: number): number {
  return (
    token('entry') +
    token('(') +
    token('name') +
    narStringSize(nameLength) +
    token('node') +
    token(')')
  );
}

import { open } from 'node:fs/promises';
import { posix } from 'node:path';

/** Byte range of a regular member inside a tar file. */
export interface TarMemberRange {
  /** Offset of the first data byte from the start of the file. */
  offset: number;
  /** Size of the member in bytes. */
  size: number;
}

/** The regular members and links of a tar file, by normalised name, with nothing read but headers. */
export interface TarIndex {
  files: Map<string, TarMemberRange>;
  /** Symbolic and hard links, each to the normalised name it points to. */
  links: Map<string, string>;
}

const BLOCK = 512;

/** Most links followed from one name. */
const MAX_LINK_HOPS = 16;

/**
 * Reads the headers of an uncompressed tar file, seeking past each member's data, so that a large
 * archive is indexed in a few reads per member. Understands ustar, GNU long names (`L`, `K`) and
 * pax headers (`path`, `linkpath`, `size`). Raises an error naming the offset of a broken header.
 */
export async function indexTar(path: string): Promise<TarIndex> {
  const index: TarIndex = { files: new Map(), links: new Map() };
  const file = await open(path, 'r');
  try {
    const { size: fileSize } = await file.stat();
    const header = Buffer.alloc(BLOCK);
    let position = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};

    while (position + BLOCK <= fileSize) {
      await readExactly(file, header, position);
      if (header.every((byte) => byte === 0)) {
        break;
      }
      if (!checksumMatches(header)) {
        throw new Error(`invalid tar header at offset ${position}: checksum mismatch`);
      }

      const type = String.fromCharCode(header[156] ?? 0x30);
      const size = pax.size === undefined ? readSize(header, position) : Number(pax.size);
      const dataStart = position + BLOCK;
      position = dataStart + Math.ceil(size / BLOCK) * BLOCK;

      if (type === 'L' || type === 'K' || type === 'x') {
        const data = Buffer.alloc(size);
        await readExactly(file, data, dataStart);
        if (type === 'L') longName = cString(data);
        else if (type === 'K') longLink = cString(data);
        else pax = { ...pax, ...parsePax(data) };
        continue;
      }
      if (type === 'g') {
        continue;
      }

      const name = normaliseName(pax.path ?? longName ?? headerName(header));
      const linkname = pax.linkpath ?? longLink ?? cString(header.subarray(157, 257));
      longName = undefined;
      longLink = undefined;
      pax = {};

      if (type === '0' || type === '\0' || type === '7') {
        index.files.set(name, { offset: dataStart, size });
        index.links.delete(name);
      } else if (type === '1') {
        index.links.set(name, normaliseName(linkname));
        index.files.delete(name);
      } else if (type === '2') {
        const target = linkname.startsWith('/')
          ? linkname
          : posix.join(posix.dirname(name), linkname);
        index.links.set(name, normaliseName(target));
        index.files.delete(name);
      }
    }
  } finally {
    await file.close();
  }
  return index;
}

/** Returns the regular member at `name`, following links, or undefined when there is none. */
export function findRange(index: TarIndex, name: string): TarMemberRange | undefined {
  let current = normaliseName(name);
  for (let hops = 0; hops <= MAX_LINK_HOPS; hops += 1) {
    const range = index.files.get(current);
    if (range !== undefined) return range;
    const target = index.links.get(current);
    if (target === undefined) return undefined;
    current = target;
  }
  return undefined;
}

async function readExactly(
  file: Awaited<ReturnType<typeof open>>,
  buffer: Buffer,
  position: number,
): Promise<void> {
  const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
  if (bytesRead !== buffer.length) {
    throw new Error(`truncated tar file: expected ${buffer.length} bytes at offset ${position}`);
  }
}

function checksumMatches(header: Buffer): boolean {
  const stored = Number.parseInt(cString(header.subarray(148, 156)).trim(), 8);
  let sum = 0;
  for (let index = 0; index < BLOCK; index += 1) {
    sum += index >= 148 && index < 156 ? 0x20 : (header[index] as number);
  }
  return stored === sum;
}

/** Reads the size field: octal text, or GNU base-256 when the first byte has its high bit set. */
function readSize(header: Buffer, position: number): number {
  const field = header.subarray(124, 136);
  if (((field[0] as number) & 0x80) !== 0) {
    let value = (field[0] as number) & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const size = Number.parseInt(cString(field).trim() || '0', 8);
  if (Number.isNaN(size)) {
    throw new Error(`invalid tar header at offset ${position}: unreadable size`);
  }
  return size;
}

function headerName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const isUstar = header.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(header.subarray(345, 500)) : '';
  return prefix === '' ? name : `${prefix}/${name}`;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

/** Parses pax records, each `LENGTH key=value\n`. */
function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const length = Number.parseInt(data.subarray(offset, space).toString('latin1'), 10);
    if (space < 0 || !(length > 0)) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

/** Removes `./`, leading and trailing slashes and `..` steps above the root from a member name. */
function normaliseName(name: string): string {
  const normalised = posix.normalize(`/${name}`).replace(/^\/+|\/+$/g, '');
  return normalised === '.' ? '' : normalised;
}

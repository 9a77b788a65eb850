import { binaryNameHeader, paxRecord } from './binary-name-header.js';
import {
  asciiStandIn,
  hasBinaryName,
  type LayerEntry,
  paddedSize,
  SYMLINK_MODE,
  USTAR_SIZE_LIMIT,
} from './layer-entry.js';

/** Bytes of one tar header block. */
export const BLOCK_SIZE = 512;

/** The fields of one ustar header block that vary between entries. */
interface BlockFields {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  typeflag: string;
  linkname: string;
}

// Matches a string that is not ASCII. Only ASCII names go in ustar fields, as tar-stream 3 does.
const NOT_ASCII = /[\u0080-\uffff]/;

/**
 * Encodes every header byte that comes before an entry's content: the raw-byte PAX header of a
 * name that is not UTF-8, then a ustar block, or a PAX header and a ustar block when the name or
 * target does not fit ustar or the file is 8 GiB or more. Uid, gid and device numbers are 0, user
 * and group names empty. The fields are set as tar-stream 3 sets them, so the bytes stay those of
 * earlier versions of this package.
 */
export function entryHeader(entry: LayerEntry, mtime: number): Buffer {
  const binary = binaryNameHeader(entry, new Date(mtime * 1000));
  const fields = blockFields(entry);
  const pax = binary === undefined ? paxFields(entry, fields) : undefined;
  if (pax === undefined) {
    const block = ustarBlock(fields, mtime);
    return binary === undefined ? block : Buffer.concat([binary, block]);
  }
  const body = Buffer.concat(pax);
  const linkname = fields.linkname === '' ? '' : 'PaxHeader';
  const out = Buffer.alloc(2 * BLOCK_SIZE + paddedSize(body.length));
  const common = { name: 'PaxHeader', prefix: '', mode: fields.mode, linkname };
  ustarBlock({ ...common, size: body.length, typeflag: 'x' }, mtime).copy(out, 0);
  body.copy(out, BLOCK_SIZE);
  const last = out.length - BLOCK_SIZE;
  ustarBlock({ ...common, size: fields.size, typeflag: fields.typeflag }, mtime).copy(out, last);
  return out;
}

/** Returns the length of `entryHeader(entry)`, without encoding it when one block is enough. */
export function entryHeaderLength(entry: LayerEntry, mtime: number): number {
  if (hasBinaryName(entry)) {
    return entryHeader(entry, mtime).length;
  }
  const fields = blockFields(entry);
  return paxFields(entry, fields) === undefined ? BLOCK_SIZE : entryHeader(entry, mtime).length;
}

function blockFields(entry: LayerEntry): BlockFields {
  const name = hasBinaryName(entry)
    ? asciiStandIn(entry.name, entry.type === 'directory')
    : (entry.name as string);
  switch (entry.type) {
    case 'directory':
      return { name, prefix: '', mode: entry.mode, size: 0, typeflag: '5', linkname: '' };
    case 'file':
      return { name, prefix: '', mode: entry.mode, size: entry.size, typeflag: '0', linkname: '' };
    case 'symlink': {
      const linkname =
        typeof entry.target === 'string' && typeof entry.name === 'string'
          ? entry.target
          : asciiStandIn(entry.target, false);
      return { name, prefix: '', mode: SYMLINK_MODE, size: 0, typeflag: '2', linkname };
    }
  }
}

/**
 * Fits the name into ustar's name and prefix fields, moving leading folders into the prefix while
 * the name is over 100 bytes. Returns the PAX records to write instead when the name is not ASCII
 * or does not fit, the target is over 100 bytes or the file is 8 GiB or more, else undefined.
 */
function paxFields(entry: LayerEntry, fields: BlockFields): Buffer[] | undefined {
  const large = entry.type === 'file' && entry.size >= USTAR_SIZE_LIMIT;
  if (!large && fitName(fields) && Buffer.byteLength(fields.linkname) <= 100) {
    return undefined;
  }
  // fitName may have moved leading folders into the prefix before the target turned out too long.
  const path = fields.prefix === '' ? fields.name : `${fields.prefix}/${fields.name}`;
  const records = [paxRecord('path', Buffer.from(path))];
  if (fields.linkname !== '') {
    records.push(paxRecord('linkpath', Buffer.from(fields.linkname)));
  }
  if (large) {
    records.push(paxRecord('size', Buffer.from(String(fields.size))));
  }
  return records;
}

/** Splits `fields.name` into name and prefix in place; false when it cannot go in ustar. */
function fitName(fields: BlockFields): boolean {
  if (NOT_ASCII.test(fields.name)) {
    return false;
  }
  let name = fields.name;
  let prefix = '';
  while (name.length > 100) {
    const slash = name.indexOf('/');
    if (slash === -1) {
      return false;
    }
    prefix = prefix === '' ? name.slice(0, slash) : `${prefix}/${name.slice(0, slash)}`;
    name = name.slice(slash + 1);
  }
  if (prefix.length > 155) {
    return false;
  }
  fields.name = name;
  fields.prefix = prefix;
  return true;
}

/**
 * Returns a ustar block with the fields that every entry of a layer shares: zero uid, gid and
 * device numbers, the magic and version, and the layer's mtime. The checksum field stays zero.
 */
function templateBlock(mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  block.write(octal(0, 6), 108, 'latin1');
  block.write(octal(0, 6), 116, 'latin1');
  writeNumber(block, 136, mtime);
  block.write('ustar\x0000', 257, 'latin1');
  block.write(octal(0, 6), 329, 'latin1');
  block.write(octal(0, 6), 337, 'latin1');
  return block;
}

/** The template of the last mtime encoded, which the entries of one layer share. */
let template: { mtime: number; block: Buffer } = { mtime: Number.NaN, block: Buffer.alloc(0) };

/** Encodes one ustar header block with the fields given and its checksum. */
function ustarBlock(fields: BlockFields, mtime: number): Buffer {
  if (template.mtime !== mtime) {
    template = { mtime, block: templateBlock(mtime) };
  }
  const block = Buffer.allocUnsafe(BLOCK_SIZE);
  template.block.copy(block);
  block.write(fields.name, 0, 'utf8');
  block.write(octal(fields.mode & 0o7777, 6), 100, 'latin1');
  writeNumber(block, 124, fields.size);
  block.write(fields.typeflag, 156, 'latin1');
  block.write(fields.linkname, 157, 'utf8');
  block.write(fields.prefix, 345, 'latin1');
  // The checksum counts its own field as eight spaces, and that field is still zero here.
  let sum = 8 * 0x20;
  for (let index = 0; index < BLOCK_SIZE; index++) {
    sum += block[index] as number;
  }
  block.write(octal(sum, 6), 148, 'latin1');
  return block;
}

/** Writes `digits` octal digits and a space, or all sevens when the value has more digits. */
function octal(value: number, digits: number): string {
  const text = value.toString(8);
  return text.length > digits ? `${'7'.repeat(digits)} ` : `${text.padStart(digits, '0')} `;
}

/** Writes a 12-byte size or time field: 11 octal digits, or base-256 when they do not suffice. */
function writeNumber(block: Buffer, offset: number, value: number): void {
  if (value.toString(8).length <= 11) {
    block.write(octal(value, 11), offset, 'latin1');
    return;
  }
  block[offset] = 0x80;
  let rest = value;
  for (let index = 11; index > 0; index--) {
    block[offset + index] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

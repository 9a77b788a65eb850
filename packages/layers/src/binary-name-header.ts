import { nameBytes } from './entry-name.js';
import {
  hasBinaryName,
  type LayerEntry,
  paddedSize,
  SYMLINK_MODE,
  USTAR_SIZE_LIMIT,
} from './layer-entry.js';

/**
 * Encodes the PAX extended header that carries an entry's raw-byte name or symlink target, or
 * returns undefined when the entry has none. The first record, `hdrcharset=BINARY`, marks the
 * values as bytes and not UTF-8. Then come `path`, `linkpath` for a symlink and `size` for a file
 * of 8 GiB or more. The header block is ustar, with the fields set as tar-stream sets them for its
 * own PAX headers. GNU tar takes the values byte for byte.
 */
export function binaryNameHeader(entry: LayerEntry, mtime: Date): Buffer | undefined {
  if (!hasBinaryName(entry)) {
    return undefined;
  }

  const records = [
    paxRecord('hdrcharset', Buffer.from('BINARY')),
    paxRecord('path', nameBytes(entry.name)),
  ];
  if (entry.type === 'symlink') {
    records.push(paxRecord('linkpath', nameBytes(entry.target)));
  }
  if (entry.type === 'file' && entry.size >= USTAR_SIZE_LIMIT) {
    records.push(paxRecord('size', Buffer.from(String(entry.size))));
  }
  const body = Buffer.concat(records);

  const mode = entry.type === 'symlink' ? SYMLINK_MODE : entry.mode;
  const block = Buffer.alloc(512 + paddedSize(body.length));
  block.write('PaxHeader', 0, 'ascii');
  block.write(octal(mode, 6), 100, 'ascii');
  block.write(octal(0, 6), 108, 'ascii');
  block.write(octal(0, 6), 116, 'ascii');
  block.write(octal(body.length, 11), 124, 'ascii');
  block.write(octal(Math.floor(mtime.getTime() / 1000), 11), 136, 'ascii');
  block.write('x', 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  block.write(octal(0, 6), 329, 'ascii');
  block.write(octal(0, 6), 337, 'ascii');
  block.write(octal(checksum(block), 6), 148, 'ascii');
  body.copy(block, 512);
  return block;
}

/** Encodes one PAX record, `<length> <key>=<value>\n`, whose length counts its own digits. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
  let length = rest + String(rest).length;
  if (String(length).length !== String(rest).length) {
    length = rest + String(length).length;
  }
  return Buffer.concat([Buffer.from(`${length} ${key}=`), value, Buffer.from('\n')]);
}

/** Writes a number as `digits` octal digits followed by a space. */
function octal(value: number, digits: number): string {
  return `${value.toString(8).padStart(digits, '0')} `;
}

/** Sums the header's bytes with the checksum field counted as eight spaces. */
function checksum(block: Buffer): number {
  let sum = 8 * 0x20;
  for (let index = 0; index < 512; index++) {
    if (index < 148 || index >= 156) {
      sum += block[index] as number;
    }
  }
  return sum;
}

import { describe, expect, it } from 'vitest';
import { ReferenceScanner } from './reference-scanner.js';

const known = 'p3ixf7b9spiqvi2f06nbyvpbsg7sv3r5';
const other = 'yd0jzw3k4244k2d00czlm24mjsikzfcx';
const hashParts = new Set([known, other]);

function scanInChunks(text: string, chunkSize: number): string[] {
  const scanner = new ReferenceScanner(hashParts);
  const bytes = Buffer.from(text, 'latin1');
  for (let start = 0; start < bytes.length; start += chunkSize) {
    scanner.update(bytes.subarray(start, start + chunkSize));
  }
  return [...scanner.found].sort();
}

describe('ReferenceScanner', () => {
  it.each([
    {
      name: 'store path in text',
      text: `#!/nix/store/${known}-busybox/bin/sh\n`,
      expected: [known],
    },
    { name: 'two references', text: `${other}\0\0${known}`, expected: [known, other].sort() },
    { name: 'hash inside a longer digit run', text: `abc${known}xyz`, expected: [known] },
    { name: 'unknown hash', text: '/nix/store/00000000000000000000000000000000-x', expected: [] },
    { name: 'one digit short', text: known.slice(1), expected: [] },
    {
      name: 'broken by a non-digit',
      text: `${known.slice(0, 10)}e${known.slice(10)}`,
      expected: [],
    },
    { name: 'empty stream', text: '', expected: [] },
  ])('finds $name', ({ text, expected }) => {
    expect(scanInChunks(text, 64 * 1024)).toEqual(expected);
  });

  it('finds hashes across every chunk boundary', () => {
    const text = `\u00ff\u0001 some bytes ${known} more bytes /${other}/ end`;
    for (let chunkSize = 1; chunkSize <= text.length; chunkSize += 1) {
      expect(scanInChunks(text, chunkSize), `chunk size ${chunkSize}`).toEqual(
        [known, other].sort(),
      );
    }
  });

  it('does not join separate streams', () => {
    const scanner = new ReferenceScanner(hashParts);
    scanner.update(Buffer.from(known.slice(0, 16)));
    scanner.reset();
    scanner.update(Buffer.from(known.slice(16)));
    expect([...scanner.found]).toEqual([]);
  });

  it('copies the carry from reused buffers', () => {
    const scanner = new ReferenceScanner(hashParts);
    const buffer = Buffer.alloc(20);
    buffer.write(known.slice(0, 20), 'latin1');
    scanner.update(buffer);
    buffer.fill(0x21);
    buffer.write(known.slice(20), 'latin1');
    scanner.update(buffer.subarray(0, 12));
    expect([...scanner.found]).toEqual([known]);
  });
});

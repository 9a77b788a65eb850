import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WRITE_PIECE_SIZE, writeInPieces } from './write-in-pieces.js';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'storepack-pieces-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('writeInPieces', () => {
  it.each([
    0,
    1,
    WRITE_PIECE_SIZE - 1,
    WRITE_PIECE_SIZE,
    WRITE_PIECE_SIZE + 1,
    64 * WRITE_PIECE_SIZE + 3,
  ])('writes all of %i bytes', (size) => {
    const file = path.join(folder, 'out');
    const bytes = randomBytes(size);
    const fd = openSync(file, 'wx');
    try {
      writeInPieces(fd, bytes);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('writes every byte across trials', () => {
    const file = path.join(folder, 'out');
    // 40 MiB in writes of 128 KiB and 5 bytes: more than the 16 MiB each size writes on trial.
    const chunk = randomBytes(128 * 1024 + 5);
    const hash = createHash('sha256');
    const fd = openSync(file, 'wx');
    try {
      for (let write = 0; write < 320; write += 1) {
        chunk.writeUInt32BE(write, write % 1000);
        writeInPieces(fd, chunk);
        hash.update(chunk);
      }
    } finally {
      closeSync(fd);
    }
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(hash.digest('hex'));
  });

  it('continues at the file offset', () => {
    const file = path.join(folder, 'out');
    const whole = randomBytes(3 * WRITE_PIECE_SIZE);
    const first = whole.subarray(5, 2 * WRITE_PIECE_SIZE + 7);
    const second = new Uint8Array(whole.buffer, whole.byteOffset + 11, WRITE_PIECE_SIZE);
    const fd = openSync(file, 'wx');
    try {
      writeInPieces(fd, first);
      writeInPieces(fd, second);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file).equals(Buffer.concat([first, second]))).toBe(true);
  });

  it('throws the system error of a failed write', () => {
    const fd = openSync(path.join(folder, 'read-only'), 'wx+');
    closeSync(fd);
    const readOnly = openSync(path.join(folder, 'read-only'), 'r');
    try {
      expect(() => writeInPieces(readOnly, Buffer.from('x'))).toThrow(
        expect.objectContaining({ code: 'EBADF', syscall: 'write' }),
      );
    } finally {
      closeSync(readOnly);
    }
  });
});

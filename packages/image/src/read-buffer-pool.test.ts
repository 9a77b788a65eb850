import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReadBufferPool } from './read-buffer-pool.js';
import { READ_CHUNK_SIZE } from './read-chunk-size.js';

let work: string;
let file: string;
let content: Buffer;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-read-pool-'));
  file = path.join(work, 'blob');
  content = randomBytes(10 * READ_CHUNK_SIZE + 5);
  await writeFile(file, content);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('ReadBufferPool', () => {
  it('lends at most four buffers', async () => {
    const pool = new ReadBufferPool();
    const lentChunks: Buffer[] = [];
    const copies: Buffer[] = [];
    const stream = pool.readFile(file);
    stream.on('data', (chunk: Buffer) => {
      lentChunks.push(chunk);
      copies.push(Buffer.from(chunk));
    });
    const ended = new Promise((resolve) => stream.on('end', resolve));

    await sleep(50);
    expect(lentChunks).toHaveLength(4);

    while (copies.reduce((sum, chunk) => sum + chunk.length, 0) < content.length) {
      const chunk = lentChunks.shift();
      if (chunk === undefined) {
        await sleep(5);
        continue;
      }
      pool.recycle(chunk);
    }
    await ended;
    expect(Buffer.concat(copies).equals(content)).toBe(true);
  });

  it('lends and takes back chunk buffers', async () => {
    const pool = new ReadBufferPool();
    const lent = await Promise.all([pool.take(), pool.take(), pool.take(), pool.take()]);
    let fifth: Buffer | undefined;
    const waiting = pool.take().then((buffer) => (fifth = buffer));

    await sleep(10);
    expect(fifth).toBeUndefined();
    expect(lent.every((buffer) => buffer.length === READ_CHUNK_SIZE)).toBe(true);

    pool.recycle((lent[0] as Buffer).subarray(0, 100));
    await waiting;
    expect(fifth).toBe(lent[0]);

    // A buffer handed back twice is counted once.
    pool.giveBack(lent[1] as Buffer);
    pool.giveBack(lent[1] as Buffer);
    const [first, second] = await Promise.all([
      pool.take(),
      Promise.race([pool.take(), sleep(10)]),
    ]);
    expect(first).toBe(lent[1]);
    expect(second).toBeUndefined();
  });

  it('ignores chunks it did not lend', () => {
    const pool = new ReadBufferPool();
    expect(() => pool.recycle(Buffer.alloc(16))).not.toThrow();
  });

  it('reads nothing once destroyed while it waits for a buffer', async () => {
    const pool = new ReadBufferPool();
    const lent = await Promise.all([1, 2, 3, 4].map(() => pool.take()));
    const stream = pool.readFile(file);
    stream.resume();
    await sleep(10);
    stream.destroy();
    await sleep(10);
    // Opened after the destroy, another file may get the number the stream's file had.
    const other = path.join(work, 'other');
    await writeFile(other, Buffer.concat([Buffer.alloc(READ_CHUNK_SIZE, 1), Buffer.from([2])]));
    const otherFd = openSync(other, 'r');
    try {
      pool.giveBack(lent[0] as Buffer);
      await sleep(10);
      const first = Buffer.alloc(1);
      readSync(otherFd, first, 0, 1, null);

      expect(first[0]).toBe(1);
      // The buffer came back to the pool instead of carrying a read of the other file.
      expect(await pool.take()).toBe(lent[0]);
    } finally {
      closeSync(otherFd);
    }
  });

  it('names a missing file', async () => {
    const missing = path.join(work, 'missing');
    const stream = new ReadBufferPool().readFile(missing);
    const failure = new Promise<Error>((resolve) => stream.on('error', resolve));
    stream.resume();

    expect((await failure).message).toContain(missing);
  });

  it('names a file that cannot be read', async () => {
    const pool = new ReadBufferPool();
    const stream = pool.readFile(work);
    const failure = new Promise<Error>((resolve) => stream.on('error', resolve));
    stream.resume();

    expect(await failure).toMatchObject({ code: 'EISDIR', path: work });
    // The buffer of the failed read goes back, so that all four can still be lent.
    const buffers = await Promise.all([1, 2, 3, 4].map(() => pool.take()));
    expect(buffers).toHaveLength(4);
  });
});

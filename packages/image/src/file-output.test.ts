import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileOutput } from './file-output.js';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'storepack-file-output-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('FileOutput', () => {
  it('writes each chunk before its callback', async () => {
    const file = path.join(folder, 'out');
    const handle = await open(file, 'wx');
    const output = new FileOutput(handle.fd, { close: () => handle.close() });
    const chunk = Buffer.alloc(100 * 1024);
    const expected: Buffer[] = [];
    for (let round = 0; round < 3; round += 1) {
      randomBytes(chunk.length).copy(chunk);
      expected.push(Buffer.from(chunk));
      await new Promise<void>((resolve, reject) =>
        output.write(chunk, (error) => (error ? reject(error) : resolve())),
      );
    }
    output.end();
    await finished(output);

    expect(readFileSync(file).equals(Buffer.concat(expected))).toBe(true);
  });

  it('closes the file once when it ends', async () => {
    const handle = await open(path.join(folder, 'out'), 'wx');
    let closes = 0;
    const output = new FileOutput(handle.fd, {
      close: () => {
        closes += 1;
        return handle.close();
      },
    });
    output.end(Buffer.from('x'));
    await finished(output);

    expect(closes).toBe(1);
    expect(handle.fd).toBe(-1);
  });

  it('closes the file when it is destroyed', async () => {
    const handle = await open(path.join(folder, 'out'), 'wx');
    const output = new FileOutput(handle.fd, { close: () => handle.close() });
    output.write(Buffer.from('x'));
    output.destroy();
    await new Promise((resolve) => output.once('close', resolve));

    expect(handle.fd).toBe(-1);
  });

  it('leaves the file open without a close function', async () => {
    const file = path.join(folder, 'out');
    const fd = openSync(file, 'wx');
    try {
      const output = new FileOutput(fd);
      output.end(Buffer.from('image'));
      await finished(output);
      writeSync(fd, Buffer.from(' and more'));
      expect(fstatSync(fd).size).toBe(14);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe('image and more');
  });

  it('fails with the system error of a failed write', async () => {
    const file = path.join(folder, 'read-only');
    closeSync(openSync(file, 'wx'));
    const handle = await open(file, 'r');
    const output = new FileOutput(handle.fd, { close: () => handle.close() });
    output.write(Buffer.from('x'));

    await expect(finished(output)).rejects.toMatchObject({ code: 'EBADF', syscall: 'write' });
    expect(handle.fd).toBe(-1);
  });
});

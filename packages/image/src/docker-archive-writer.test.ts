import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomically } from './atomic-file.js';
import { writeDockerArchive } from './docker-archive-writer.js';
import { planImage } from './image-plan.js';

const item = '/nix/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-data-1.0';

let work: string;
let root: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-writer-'));
  root = path.join(work, 'root');
  await mkdir(path.join(root, item), { recursive: true });
  await writeFile(path.join(root, item, 'big'), Buffer.alloc(4 * 1024 * 1024, 7));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('writeDockerArchive', () => {
  it('writes cached blobs whole to a writable that keeps chunks', async () => {
    // Several read buffers' worth of bytes that gzip cannot shrink.
    await writeFile(path.join(root, item, 'random'), randomBytes(6 * 1024 * 1024));
    const options = {
      paths: [item],
      root,
      closureFrom: 'scan' as const,
      tags: ['data:1'],
      compression: 'gzip' as const,
      cache: path.join(work, 'cache'),
    };
    const reference = path.join(work, 'reference.tar');
    await writeFileAtomically(reference, async (stream) =>
      writeDockerArchive(await planImage(options), stream, { outputReleasesChunks: true }),
    );

    // Without outputReleasesChunks, every chunk the collector keeps must be a buffer of its own.
    const collected: Buffer[] = [];
    const collector = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        collected.push(chunk);
        callback();
      },
    });
    await writeDockerArchive(await planImage(options), collector);

    expect(Buffer.concat(collected).equals(await readFile(reference))).toBe(true);
  });

  it('reuses buffers for a late-releasing output', async () => {
    // Many times the pool's buffers, beside small files that share chunks with tar headers.
    await writeFile(path.join(root, item, 'random'), randomBytes(9 * 1024 * 1024 + 77));
    for (let index = 0; index < 40; index += 1) {
      await writeFile(path.join(root, item, `small-${index}`), randomBytes(index * 997));
    }
    const options = { paths: [item], root, closureFrom: 'scan' as const, tags: ['data:1'] };
    const collected: Buffer[] = [];
    await writeDockerArchive(
      await planImage(options),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          collected.push(chunk);
          callback();
        },
      }),
    );

    // Reads each chunk only when it calls back, a while after the write, as a socket would.
    const late: Buffer[] = [];
    const slow = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        setTimeout(() => {
          late.push(Buffer.from(chunk));
          callback();
        }, 1);
      },
    });
    await writeDockerArchive(await planImage(options), slow, { outputReleasesChunks: true });

    expect(Buffer.concat(late).equals(Buffer.concat(collected))).toBe(true);
    expect(new Set(collected.map((chunk) => chunk.buffer)).size).toBeGreaterThan(20);
  });

  it('fails cleanly when a file vanishes', async () => {
    const plan = await planImage({ paths: [item], root, closureFrom: 'scan', tags: ['data:1'] });
    await rm(path.join(root, item, 'big'));
    const output = path.join(work, 'out');
    await mkdir(output);

    const writing = writeFileAtomically(path.join(output, 'image.tar'), (stream) =>
      writeDockerArchive(plan, stream),
    );

    await expect(writing).rejects.toThrow(`${root}${item}/big`);
    expect(await readdir(output)).toEqual([]);
  });
});

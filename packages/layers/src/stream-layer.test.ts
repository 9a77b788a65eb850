import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  appendFile,
  chmod,
  mkdir,
  rename,
  rm,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectEntries } from './collect-entries.js';
import { LayerError } from './errors.js';
import {
  copyChunks,
  makeTempDir,
  openFilesBelow,
  readAll,
  removeTree,
  run,
  streamError,
  writeFileAt,
} from './layer-fixtures.js';
import { checkSource } from './layer-source.js';
import { measureLayer } from './measure-layer.js';
import { prepareLayer, unhashedFrames } from './prepare-layer.js';
import { type ChunkMemory, type Hashing, type StreamResult, streamLayer } from './stream-layer.js';

const ITEM = '/nix/store/6h7j2pf9nlvt5r2c3dw34p3p5b14dzkl-data';
const BIG_SIZE = 16 * 1024 * 1024;

/** Runs `action` with the effective user and group `nobody` when running as root, so that file permissions apply. */
async function withoutRoot<T>(action: () => Promise<T>): Promise<T> {
  if (process.geteuid?.() !== 0) {
    return action();
  }
  const nobody = 65534;
  process.setegid(nobody);
  process.seteuid(nobody);
  try {
    return await action();
  } finally {
    process.seteuid(0);
    process.setegid(0);
  }
}

describe('streaming a layer', () => {
  let root: string;
  let item: string;

  beforeEach(async () => {
    root = await makeTempDir();
    item = join(root, ITEM);
    await writeFileAt(join(item, 'a-first'), 'first\n');
    await writeFileAt(join(item, 'data'), 'recorded content\n');
    await writeFileAt(join(item, 'z-last'), 'last\n');
  });

  afterEach(async () => {
    await removeTree(root);
  });

  async function prepare() {
    return prepareLayer({ storeDir: '/nix/store', storePaths: [ITEM], root });
  }

  it('throws NOT_FINISHED before the stream ends', async () => {
    const layer = await prepare();
    const stream = layer.createStream();

    expect(() => layer.diffId()).toThrow(LayerError);
    expect(() => layer.diffId()).toThrow(expect.objectContaining({ code: 'NOT_FINISHED' }));
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    expect(first.length).toBeGreaterThan(0);
    expect(() => layer.diffId()).toThrow(expect.objectContaining({ code: 'NOT_FINISHED' }));

    stream.destroy();
  });

  // Files up to 256 KiB are read whole, and larger ones stream in chunks. Both paths must check.
  describe.each([
    ['a small file', 17],
    ['a large file', 1024 * 1024 + 5],
  ])('changes to %s', (_kind, size) => {
    beforeEach(async () => {
      await writeFile(join(item, 'data'), Buffer.alloc(size, 5));
    });

    it('fails when truncated after prepare', async () => {
      const layer = await prepare();
      await truncate(join(item, 'data'), 3);

      const error = await streamError(layer.createStream());

      expect(error).toBeInstanceOf(LayerError);
      expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING', path: join(item, 'data') });
      expect((error as Error).message).toContain(`reading ${join(item, 'data')}: file changed`);
      expect(() => layer.diffId()).toThrow(expect.objectContaining({ code: 'NOT_FINISHED' }));
    });

    it('fails when grown after prepare', async () => {
      const layer = await prepare();
      await appendFile(join(item, 'data'), 'more\n');

      const error = await streamError(layer.createStream());

      expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING', path: join(item, 'data') });
    });

    it('fails when replaced by a folder', async () => {
      const layer = await prepare();
      await rm(join(item, 'data'));
      await mkdir(join(item, 'data'));

      const error = await streamError(layer.createStream());

      expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING', path: join(item, 'data') });
      expect((error as Error).message).toContain('no longer a regular file');
    });

    it('fails when replaced by a symlink', async () => {
      await writeFile(join(item, 'same-size'), Buffer.alloc(size, 5));
      const layer = await prepare();
      await rm(join(item, 'data'));
      await symlink('same-size', join(item, 'data'));

      const error = await streamError(layer.createStream());

      expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING', path: join(item, 'data') });
      expect((error as Error).message).toContain('no longer a regular file');
    });

    it('fails when rewritten with the same size', async () => {
      // Store files have the mtime 1 s, so the rewrite's mtime differs.
      await utimes(join(item, 'data'), 1, 1);
      const layer = await prepare();
      await writeFile(join(item, 'data'), Buffer.alloc(size, 6));

      const error = await streamError(layer.createStream());

      expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING', path: join(item, 'data') });
      expect((error as Error).message).toContain('modified since it was recorded');
    });

    it('fails when a same-size file takes its place', async () => {
      await utimes(join(item, 'data'), 1, 1);
      const layer = await prepare();
      const replacement = join(item, 'replacement');
      await writeFile(replacement, Buffer.alloc(size, 5));
      await utimes(replacement, 1, 1);
      await rename(replacement, join(item, 'data'));

      const error = await streamError(layer.createStream());

      expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING', path: join(item, 'data') });
      expect((error as Error).message).toContain('another file took its place');
    });

    it('fails when replaced by a FIFO', async () => {
      const layer = await prepare();
      await rm(join(item, 'data'));
      await run('mkfifo', [join(item, 'data')]);

      const error = await streamError(layer.createStream());

      expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING', path: join(item, 'data') });
      expect((error as Error).message).toContain('no longer a regular file');
    });

    it('fails with READ when removed', async () => {
      const layer = await prepare();
      await rm(join(item, 'data'));

      const error = await streamError(layer.createStream());

      expect(error).toMatchObject({ code: 'READ', path: join(item, 'data') });
      expect((error as Error).message).toBe(
        `reading ${join(item, 'data')}: no such file or directory`,
      );
    });

    it('fails with READ without read permission', async () => {
      const layer = await prepare();
      await chmod(join(item, 'data'), 0o000);

      const error = await withoutRoot(() => streamError(layer.createStream()));

      expect(error).toMatchObject({ code: 'READ', path: join(item, 'data') });
      expect((error as Error).message).toBe(`reading ${join(item, 'data')}: permission denied`);
    });
  });

  it.each([
    ['truncated', (path: string) => truncate(path, 0)],
    ['grown', (path: string) => appendFile(path, Buffer.alloc(1024 * 1024, 9))],
  ])('fails on a file %s while it streams', async (_change, change) => {
    const big = join(item, 'big');
    await writeFileAt(big, Buffer.alloc(BIG_SIZE, 7));
    const layer = await prepare();
    const stream = layer.createStream();

    let received = 0;
    let changed = false;
    const error = await (async () => {
      try {
        for await (const chunk of stream) {
          received += (chunk as Buffer).length;
          if (!changed && received > 1024 * 1024) {
            changed = true;
            await change(big);
          }
        }
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(changed).toBe(true);
    // `big` starts after at least its own 512-byte header, so its last byte never went out.
    expect(received).toBeLessThan(BIG_SIZE + 512);
    expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING', path: big });
  });

  it('stops reading when the consumer destroys the stream', async () => {
    await writeFileAt(join(item, 'big'), Buffer.alloc(BIG_SIZE, 7));
    const layer = await prepare();
    const stream = layer.createStream();

    // Past 1 MiB the stream is inside `big`, the one file read in chunks while its entry streams.
    // Chunks are taken with read(), since leaving a for-await loop would destroy the stream.
    let received = 0;
    while (received <= 1024 * 1024) {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) {
        await once(stream, 'readable');
      } else {
        received += chunk.length;
      }
    }
    const openWhileStreaming = await openFilesBelow(item);
    stream.destroy();

    expect(openWhileStreaming).toEqual([join(item, 'big')]);
    expect(stream.destroyed).toBe(true);
    expect(() => layer.diffId()).toThrow(expect.objectContaining({ code: 'NOT_FINISHED' }));
    await expect.poll(() => openFilesBelow(item), { timeout: 2000 }).toEqual([]);
  });

  it.each<Hashing>(['thread', 'inline'])('computes the diff ID hashed %s', async (hashing) => {
    await writeFileAt(join(item, 'big'), Buffer.alloc(BIG_SIZE, 7));
    for (let index = 0; index < 50; index += 1) {
      await writeFileAt(join(item, 'small', String(index)), `small file ${index}\n`);
    }
    const entries = collectEntries(
      checkSource({ storeDir: '/nix/store', storePaths: [ITEM], root }),
    );
    let result: StreamResult | undefined;

    const tar = await readAll(
      streamLayer(entries, 1, measureLayer(entries, 1), (value) => (result = value), hashing),
    );

    expect(result?.bytes).toBe(tar.length);
    expect(result?.diffId()).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
  });

  /**
   * Creates a memory that lends new buffers of `size` bytes, at most `limit` of them (later
   * requests wait forever), and records the buffers it gets back.
   */
  function recordingMemory(size: number, limit = Number.POSITIVE_INFINITY) {
    const lent = new Set<ArrayBufferLike>();
    const givenBack: Buffer[] = [];
    const memory: ChunkMemory = {
      take: () => {
        if (lent.size >= limit) {
          return new Promise<Buffer>(() => undefined);
        }
        const buffer = Buffer.alloc(size);
        lent.add(buffer.buffer);
        return Promise.resolve(buffer);
      },
      giveBack: (buffer) => givenBack.push(buffer),
    };
    return { memory, lent, givenBack };
  }

  it('writes chunks into given memory', async () => {
    await writeFileAt(join(item, 'big'), Buffer.alloc(BIG_SIZE, 7));
    const tar = await readAll((await prepare()).createStream());
    const { memory, lent, givenBack } = recordingMemory(1024 * 1024);
    const layer = await prepare();

    const chunks: Buffer[] = [];
    for await (const chunk of layer.createStream(memory)) {
      chunks.push(chunk as Buffer);
    }

    expect(Buffer.concat(chunks).equals(tar)).toBe(true);
    expect(chunks.every((chunk) => lent.has(chunk.buffer))).toBe(true);
    // A 16 MiB file goes out in chunks of the buffers' size.
    expect(chunks.filter((chunk) => chunk.length === 1024 * 1024).length).toBeGreaterThan(10);
    // The last chunk takes no buffer after it, so the stream hands none back.
    expect(lent.size).toBe(chunks.length);
    expect(givenBack).toHaveLength(0);
    expect(layer.diffId()).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
  });

  it('returns its buffer on a changed file', async () => {
    const { memory, givenBack } = recordingMemory(512 * 1024);
    const layer = await prepare();
    await truncate(join(item, 'data'), 3);

    const error = await streamError(layer.createStream(memory));

    expect(error).toMatchObject({ code: 'CHANGED_WHILE_READING' });
    expect(givenBack).toHaveLength(1);
  });

  it('stops waiting for memory when destroyed', async () => {
    await writeFileAt(join(item, 'big'), Buffer.alloc(BIG_SIZE, 7));
    const { memory, givenBack } = recordingMemory(1024 * 1024, 2);
    const stream = (await prepare()).createStream(memory);

    // The consumer keeps the first chunk's buffer, so the writer waits for a third one.
    await new Promise((resolve) => stream.once('data', resolve));
    stream.destroy();

    await expect.poll(() => givenBack.length, { timeout: 2000 }).toBe(1);
  });

  it('rejects buffers too small for a chunk', async () => {
    const { memory, givenBack } = recordingMemory(64 * 1024);

    const error = await streamError((await prepare()).createStream(memory));

    expect(error).toMatchObject({
      code: 'INVALID_OPTIONS',
      message:
        'streaming layer: a chunk buffer of 65536 bytes is smaller than the 524288 bytes a chunk may take',
    });
    expect(givenBack).toHaveLength(1);
  });

  it('gives the same tar in chunks, reusing their memory', async () => {
    await writeFileAt(join(item, 'big'), Buffer.alloc(BIG_SIZE, 7));
    const streamed = await prepare();
    const tar = await readAll(streamed.createStream());
    const layer = await prepare();

    const { copies, memory } = await copyChunks(layer.chunks());

    expect(Buffer.concat(copies).equals(tar)).toBe(true);
    expect(layer.diffId()).toBe(streamed.diffId());
    // A large file is read into one buffer while the one before it is consumed.
    expect(copies.length).toBeGreaterThan(8);
    expect(memory.size).toBe(2);
  });

  it('passes its chunk memory on to the next layer streamed in chunks', async () => {
    await writeFileAt(join(item, 'big'), Buffer.alloc(BIG_SIZE, 7));

    const first = (await copyChunks((await prepare()).chunks())).memory;
    const second = (await copyChunks((await prepare()).chunks())).memory;

    expect([...second].some((buffer) => first.has(buffer))).toBe(true);
  });

  it('closes the file being read when the consumer stops taking chunks', async () => {
    await writeFileAt(join(item, 'big'), Buffer.alloc(BIG_SIZE, 7));
    const layer = await prepare();

    let received = 0;
    let openWhileStreaming: string[] = [];
    for await (const chunk of layer.chunks()) {
      received += chunk.length;
      if (received > 1024 * 1024) {
        openWhileStreaming = await openFilesBelow(item);
        break;
      }
    }

    expect(openWhileStreaming).toEqual([join(item, 'big')]);
    expect(() => layer.diffId()).toThrow(expect.objectContaining({ code: 'NOT_FINISHED' }));
    await expect.poll(() => openFilesBelow(item), { timeout: 2000 }).toEqual([]);
  });

  it('fails the chunks of a file truncated while it streams', async () => {
    const big = join(item, 'big');
    await writeFileAt(big, Buffer.alloc(BIG_SIZE, 7));
    const layer = await prepare();

    let received = 0;
    const read = async () => {
      for await (const chunk of layer.chunks()) {
        received += chunk.length;
        if (received > 1024 * 1024 && received - chunk.length <= 1024 * 1024) {
          await truncate(big, 0);
        }
      }
    };

    await expect(read()).rejects.toMatchObject({ code: 'CHANGED_WHILE_READING', path: big });
    expect(received).toBeLessThan(BIG_SIZE + 512);
  });

  describe('in frames', () => {
    const FRAME = 512 * 1024;

    /**
     * Adds files that end at every kind of place in a frame: small ones of many sizes, which go
     * across frame ends whole or in part, long names with PAX headers, and two large files.
     */
    async function writeMixedFiles(): Promise<void> {
      for (let index = 0; index < 120; index += 1) {
        const size = (index * 7919) % (200 * 1024);
        await writeFileAt(join(item, 'small', `${index}`), Buffer.alloc(size, index));
      }
      await writeFileAt(join(item, `${'long-name-'.repeat(20)}end`), 'pax\n');
      await writeFileAt(join(item, 'large-1'), Buffer.alloc(FRAME * 3 + 1000, 1));
      await writeFileAt(join(item, 'large-2'), Buffer.alloc(300 * 1024, 2));
    }

    it('fills every frame but the last', async () => {
      await writeMixedFiles();
      const tar = await readAll((await prepare()).createStream());
      const { memory, lent, givenBack } = recordingMemory(FRAME);

      const frames: Buffer[] = [];
      const unhashed = unhashedFrames(await prepare(), memory);
      for await (const frame of unhashed?.frames ?? []) {
        frames.push(Buffer.from(frame));
      }

      expect(Buffer.concat(frames).equals(tar)).toBe(true);
      expect(frames.length).toBe(Math.ceil(tar.length / FRAME));
      expect(frames.slice(0, -1).every((frame) => frame.length === FRAME)).toBe(true);
      expect(lent.size).toBe(frames.length);
      expect(givenBack).toHaveLength(0);
    });

    it('fails on a file truncated after prepare', async () => {
      await writeMixedFiles();
      const { memory, givenBack } = recordingMemory(FRAME);
      const layer = await prepare();
      await truncate(join(item, 'large-1'), FRAME);

      const read = async () => {
        for await (const _frame of unhashedFrames(layer, memory)?.frames ?? []) {
          // Frames are only counted by the memory.
        }
      };

      await expect(read()).rejects.toMatchObject({
        code: 'CHANGED_WHILE_READING',
        path: join(item, 'large-1'),
      });
      // The frame being filled goes back, while the ones received are the consumer's.
      expect(givenBack).toHaveLength(1);
    });

    it('sends no byte of a changed file that goes across a frame end', async () => {
      // 'a' is read in pieces and 'x' whole. 'a' is sized so that the header of 'x' fills the
      // first frame exactly: that frame may go out only once 'x' has been read and checked.
      const header = Buffer.from(`nix/store/${ITEM.slice('/nix/store/'.length)}/x\0`);
      await writeFileAt(join(item, 'a'), Buffer.alloc(300 * 1024, 1));
      await writeFileAt(join(item, 'x'), Buffer.alloc(100 * 1024, 2));
      const trial = await readAll((await prepare()).createStream());
      const shift = FRAME - 512 - trial.indexOf(header);
      await writeFileAt(join(item, 'a'), Buffer.alloc(300 * 1024 + shift, 1));
      const fitted = await readAll((await prepare()).createStream());
      const { memory } = recordingMemory(FRAME);
      const layer = await prepare();
      await truncate(join(item, 'x'), 10);

      const received: Buffer[] = [];
      const read = async () => {
        for await (const frame of unhashedFrames(layer, memory)?.frames ?? []) {
          received.push(Buffer.from(frame));
        }
      };

      expect(fitted.indexOf(header)).toBe(FRAME - 512);
      await expect(read()).rejects.toMatchObject({ code: 'CHANGED_WHILE_READING' });
      expect(received.some((frame) => frame.includes(header))).toBe(false);
    });

    it('closes the file being read when the consumer stops', async () => {
      await writeFileAt(join(item, 'big'), Buffer.alloc(BIG_SIZE, 7));
      const { memory, lent, givenBack } = recordingMemory(FRAME);
      const layer = await prepare();

      let openWhileStreaming: string[] = [];
      for await (const _frame of unhashedFrames(layer, memory)?.frames ?? []) {
        openWhileStreaming = await openFilesBelow(item);
        break;
      }

      expect(openWhileStreaming).toEqual([join(item, 'big')]);
      await expect.poll(() => openFilesBelow(item), { timeout: 2000 }).toEqual([]);
      // A full frame goes out before the next is taken, so only the one received was lent.
      expect(lent.size).toBe(1);
      expect(givenBack).toHaveLength(0);
    });
  });

  it('rejects chunks after a stream, and a stream after chunks', async () => {
    const streamed = await prepare();
    await readAll(streamed.createStream());
    const chunked = await prepare();
    chunked.chunks();

    expect(() => streamed.chunks()).toThrow(expect.objectContaining({ code: 'ALREADY_STREAMED' }));
    expect(() => chunked.createStream()).toThrow(
      expect.objectContaining({ code: 'ALREADY_STREAMED' }),
    );
  });

  it('streams again after a fresh prepare', async () => {
    const first = await readAll((await prepare()).createStream());
    await writeFile(join(item, 'data'), 'new content of another size\n');
    const layer = await prepare();

    const second = await readAll(layer.createStream());

    expect(second.length).toBe(layer.size);
    expect(second.length).toBe(first.length);
    expect(second.equals(first)).toBe(false);
  });
});

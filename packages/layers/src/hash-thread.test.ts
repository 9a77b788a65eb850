import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { HashThread } from './hash-thread.js';

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
  }
  return `sha256:${hash.digest('hex')}`;
};

/** Hashes `chunks` in a new session, one after the other, and returns the digest. */
async function hashChunks(thread: HashThread, chunks: Uint8Array[]): Promise<string> {
  const session = thread.open();
  for (const chunk of chunks) {
    await session.update(chunk);
  }
  await session.finish();
  return session.digest();
}

describe('HashThread', () => {
  const thread = new HashThread();

  afterAll(async () => {
    await thread.stop();
  });

  it.each([
    ['no bytes', []],
    ['one byte', [1]],
    ['one slot exactly', [512 * 1024]],
    ['chunks larger than a slot', [512 * 1024 + 1, 3 * 1024 * 1024 + 5]],
    ['more chunks than slots', Array.from({ length: 40 }, (_, index) => 1000 + index * 7919)],
  ])('gives the SHA-256 of %s', async (_name, sizes) => {
    const chunks = sizes.map((size) => randomBytes(size));

    await expect(hashChunks(thread, chunks)).resolves.toBe(sha256(...chunks));
  });

  it('separates interleaved sessions', async () => {
    const first = Array.from({ length: 30 }, () => randomBytes(300 * 1024));
    const second = Array.from({ length: 30 }, () => randomBytes(200 * 1024));

    const digests = await Promise.all([hashChunks(thread, first), hashChunks(thread, second)]);

    expect(digests).toEqual([sha256(...first), sha256(...second)]);
  });

  it('keeps call order without awaits', async () => {
    const chunks = Array.from({ length: 24 }, () => randomBytes(400 * 1024));
    const session = thread.open();

    await Promise.all(chunks.map((chunk) => session.update(chunk)));
    await session.finish();

    expect(session.digest()).toBe(sha256(...chunks));
  });

  it('copies the bytes before the update resolves', async () => {
    const buffer = Buffer.alloc(100_000, 'a');
    const session = thread.open();

    await session.update(buffer);
    buffer.fill('b');
    await session.update(buffer);
    await session.finish();

    expect(session.digest()).toBe(sha256(Buffer.alloc(100_000, 'a'), buffer));
  });

  it('gives digests after slot reuse', async () => {
    const early = thread.open();
    await early.update(Buffer.from('early'));
    await early.finish();

    await hashChunks(thread, [randomBytes(8 * 1024 * 1024)]);

    expect(early.digest()).toBe(sha256(Buffer.from('early')));
  });

  it('rejects early digests and late bytes', async () => {
    const session = thread.open();
    await session.update(Buffer.from('x'));

    expect(() => session.digest()).toThrow(expect.objectContaining({ code: 'NOT_FINISHED' }));

    await session.finish();

    await expect(session.update(Buffer.from('y'))).rejects.toMatchObject({ code: 'HASHING' });
    await expect(session.finish()).rejects.toMatchObject({ code: 'HASHING' });
    expect(session.digest()).toBe(sha256(Buffer.from('x')));
  });

  it('hashes after a dropped session', async () => {
    const dropped = thread.open();
    await dropped.update(randomBytes(1024 * 1024));
    dropped.drop();
    dropped.drop();

    await expect(hashChunks(thread, [Buffer.from('after')])).resolves.toBe(
      sha256(Buffer.from('after')),
    );
  });
});

describe('HashThread when stopped', () => {
  it('fails waiting updates and digests', async () => {
    const thread = new HashThread();
    const finished = thread.open();
    await finished.update(Buffer.from('done'));
    await finished.finish();
    expect(finished.digest()).toBe(sha256(Buffer.from('done')));
    const session = thread.open();
    // More than the ring fits, so that some updates wait for the thread.
    const updates = Array.from({ length: 20 }, () => session.update(randomBytes(512 * 1024)));
    for (const update of updates) {
      update.catch(() => undefined);
    }

    await thread.stop();

    await expect(Promise.all(updates)).rejects.toMatchObject({
      code: 'HASHING',
      message: 'hashing layer: the hash thread was stopped',
    });
    expect(thread.failed).toBe(true);
    const late = thread.open();
    await expect(late.update(Buffer.from('late'))).rejects.toMatchObject({ code: 'HASHING' });
    expect(finished.digest()).toBe(sha256(Buffer.from('done')));
  });
});

describe('the shared hash thread', () => {
  it('keeps the process alive while waiting', async () => {
    const module = fileURLToPath(new URL('../dist/hash-thread.js', import.meta.url));
    const script = `
      import { sharedHashThread } from ${JSON.stringify(module)};
      const session = sharedHashThread().open();
      // Four times what the ring fits, so the later updates wait for the thread to free slots.
      for (let count = 0; count < 64; count += 1) {
        await session.update(Buffer.alloc(256 * 1024, count));
      }
      await session.finish();
      console.log(session.digest());
    `;

    const started = performance.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: 20_000 },
    );

    const chunks = Array.from({ length: 64 }, (_, count) => Buffer.alloc(256 * 1024, count));
    expect(stdout.trim()).toBe(sha256(...chunks));
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('exits with an abandoned session', async () => {
    const module = fileURLToPath(new URL('../dist/hash-thread.js', import.meta.url));
    const script = `
      import { sharedHashThread } from ${JSON.stringify(module)};
      const session = sharedHashThread().open();
      await session.update(Buffer.alloc(1024 * 1024, 1));
      console.log('given up');
    `;

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: 10_000 },
    );

    expect(stdout.trim()).toBe('given up');
  });
});

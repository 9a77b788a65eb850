import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { textSample as sample } from './layer-fixtures.js';
import { defaultZstdLibrary, ZstdPool } from './zstd-pool.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Runs `test` with a one-worker pool and a descriptor of /dev/null, and closes both after. */
async function withPoolAndNullSink(test: (pool: ZstdPool, fd: number) => Promise<void>) {
  const pool = new ZstdPool(1);
  const sink = await open('/dev/null', 'w');
  try {
    await test(pool, sink.fd);
  } finally {
    await sink.close();
    await pool.close();
  }
}

describe('ZstdPool', () => {
  const native = new ZstdPool(2, 'native');
  const wasm = new ZstdPool(2, 'wasm');

  afterAll(async () => {
    await Promise.all([native.close(), wasm.close()]);
  });

  it('defaults to the native library', () => {
    expect(defaultZstdLibrary()).toBe('native');
    expect(new ZstdPool(1).library).toBe('native');
  });

  it.each([0, 1, 4096, 3 * 1024 * 1024 + 17])(
    'gives the same frame from both libraries for %i bytes',
    async (size) => {
      const [fromNative, fromWasm] = await Promise.all([
        native.compress(sample(size, size)),
        wasm.compress(sample(size, size)),
      ]);

      expect(fromNative.length).toBeGreaterThan(0);
      expect(sha256(fromNative)).toBe(sha256(fromWasm));
    },
  );

  // Published zstd blobs and cached layers depend on these bytes. A zstd release that changes them
  // needs a new cache key and a release note.
  it.each(['native', 'wasm'] as const)('%s gives the recorded frame', async (library) => {
    const frame = await (library === 'native' ? native : wasm).compress(sample(1024 * 1024, 7));

    expect({ size: frame.length, sha256: sha256(frame) }).toEqual({
      size: 12076,
      sha256: '180fb356de57d52d8e789233e16a7a1588d18509c826202300d0f921ac481d5f',
    });
  });

  it.each(['native', 'wasm'] as const)(
    '%s writes a reusable frame into memory that a later frame reuses once recycled',
    async (library) => {
      const pool = new ZstdPool(1, library);
      try {
        const inputs = [sample(2 * 1024 * 1024, 11), sample(2 * 1024 * 1024, 12)];
        const expected = await Promise.all(inputs.map((input) => native.compress(input.slice())));

        const fill = (input: Uint8Array) => {
          const buffer = pool.takeBuffer(input.byteLength);
          buffer.set(input);
          return buffer;
        };
        const first = await pool.compress(fill(inputs[0] as Uint8Array), 3, true);
        const firstBytes = Buffer.from(first);
        pool.recycle(first);
        const second = await pool.compress(fill(inputs[1] as Uint8Array), 3, true);

        expect(sha256(firstBytes)).toBe(sha256(expected[0] as Buffer));
        expect(sha256(second)).toBe(sha256(expected[1] as Buffer));
        expect(second.buffer).toBe(first.buffer);
        expect(second.buffer).toBeInstanceOf(SharedArrayBuffer);
      } finally {
        await pool.close();
      }
    },
  );

  it('never writes over a frame that was not asked to be reusable', async () => {
    const pool = new ZstdPool(1);
    try {
      const first = await pool.compress(sample(1024 * 1024, 21));
      const firstDigest = sha256(first);
      for (const seed of [22, 23, 24]) {
        pool.recycle(await pool.compress(sample(1024 * 1024, seed), 3, true));
      }

      expect(sha256(first)).toBe(firstDigest);
      expect(first.buffer).toBeInstanceOf(ArrayBuffer);
    } finally {
      await pool.close();
    }
  });

  it('takes back a shared input once its frame is compressed', async () => {
    const pool = new ZstdPool(1);
    try {
      const input = pool.takeBuffer(64 * 1024);
      input.set(sample(64 * 1024, 31));
      await pool.compress(input);

      expect(pool.takeBuffer(64 * 1024).buffer).toBe(input.buffer);
    } finally {
      await pool.close();
    }
  });

  it.each(['native', 'wasm'] as const)(
    '%s session hashes, compresses and writes frames in order',
    async (library) => {
      const pool = new ZstdPool(2, library);
      const folder = await mkdtemp(join(tmpdir(), 'storepack-session-'));
      const handle = await open(join(folder, 'blob.zst'), 'wx');
      try {
        const inputs = [11, 12, 13].map((seed) => sample(1024 * 1024 + seed, seed));
        const expected = await Promise.all(inputs.map((input) => native.compress(input.slice())));
        const session = pool.openSession(handle.fd);

        await Promise.all(
          inputs.map((input) => {
            const frame = pool.takeBuffer(input.byteLength);
            frame.set(input);
            return session.write(frame);
          }),
        );
        const result = await session.finish();
        const written = await readFile(join(folder, 'blob.zst'));

        expect(written.equals(Buffer.concat(expected))).toBe(true);
        expect(result.digest).toBe(`sha256:${sha256(written)}`);
        expect(result.size).toBe(written.length);
        expect(result.diffId).toBe(`sha256:${sha256(Buffer.concat(inputs))}`);
        expect(result.bytes).toBe(3 * 1024 * 1024 + 36);
      } finally {
        await handle.close();
        await pool.close();
        await rm(folder, { recursive: true, force: true });
      }
    },
  );

  it('pins a session to a worker number', async () => {
    const pool = new ZstdPool(2);
    const sink = await open('/dev/null', 'w');
    try {
      const done: string[] = [];
      // Level 19 keeps worker 0 busy for a while, so sessions on it queue behind this frame.
      // Worker number 2 is worker 0 in a pool of 2.
      const blocking = pool.compress(sample(8 * 1024 * 1024, 81), 19).then(() => done.push('job'));
      const behind = pool.openSession(sink.fd, 3, 2);
      const beside = pool.openSession(sink.fd, 3, 1);

      await Promise.all([
        behind.write(sample(64 * 1024, 82)).then(() => done.push('worker 0')),
        beside.write(sample(64 * 1024, 83)).then(() => done.push('worker 1')),
        blocking,
      ]);
      await Promise.all([behind.finish(), beside.finish()]);

      expect(done).toEqual(['worker 1', 'job', 'worker 0']);
    } finally {
      await sink.close();
      await pool.close();
    }
  });

  it.each([-1, 1.5, Number.NaN])('rejects worker number %s', (worker) =>
    withPoolAndNullSink(async (pool, fd) => {
      expect(() => pool.openSession(fd, 3, worker)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: `invalid zstd worker number ${worker}: expected a whole number, 0 or more`,
        }),
      );
    }),
  );

  it('fails the write and the session when the file cannot take it', async () => {
    const pool = new ZstdPool(1);
    const full = await open('/dev/full', 'w');
    try {
      const session = pool.openSession(full.fd);

      await expect(session.write(sample(64 * 1024, 41))).rejects.toMatchObject({ code: 'ENOSPC' });
      await expect(session.finish()).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      await full.close();
      await pool.close();
    }
  });

  it('settles a finish and rejects an abort that follows it', () =>
    withPoolAndNullSink(async (pool, fd) => {
      const session = pool.openSession(fd);
      await session.write(sample(64 * 1024, 61));

      const finishing = session.finish();
      await expect(session.abort()).rejects.toMatchObject({ code: 'COMPRESSION' });
      await expect(finishing).resolves.toMatchObject({ bytes: 64 * 1024 });
    }));

  it('fails frames still queued when the pool closes', async () => {
    const pool = new ZstdPool(1);
    const frames = [71, 72, 73, 74].map((seed) => {
      const frame = pool.takeBuffer(4 * 1024 * 1024);
      frame.set(sample(4 * 1024 * 1024, seed));
      return pool.compress(frame);
    });
    for (const frame of frames) {
      frame.catch(() => undefined);
    }

    await pool.close();
    const results = await Promise.allSettled(frames);

    expect(results.slice(1).map((result) => result.status)).toEqual([
      'rejected',
      'rejected',
      'rejected',
    ]);
  });

  it('closes only when idle, and compresses again after', () =>
    withPoolAndNullSink(async (pool, fd) => {
      const session = pool.openSession(fd);
      const whileOpen = await pool.closeIfIdle();
      await session.finish();
      const once = await pool.closeIfIdle();
      const frame = await pool.compress(sample(64 * 1024, 81));

      expect(whileOpen).toBe(false);
      expect(once).toBe(true);
      expect(sha256(frame)).toBe(sha256(await native.compress(sample(64 * 1024, 81))));
    }));

  it.each([0, -1, 1.5, Number.NaN])('rejects a pool of %s workers', (size) => {
    expect(() => new ZstdPool(size)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('rejects frames after a session was aborted', () =>
    withPoolAndNullSink(async (pool, fd) => {
      const session = pool.openSession(fd);
      await session.write(sample(64 * 1024, 51));
      await session.abort();

      await expect(session.write(sample(64 * 1024, 52))).rejects.toMatchObject({
        code: 'COMPRESSION',
      });
      await expect(session.finish()).rejects.toMatchObject({ code: 'COMPRESSION' });
    }));

  it('compresses at the given level', async () => {
    const input = sample(1024 * 1024, 3);
    const [fast, strong] = await Promise.all([
      native.compress(input.slice(), 1),
      native.compress(input.slice(), 19),
    ]);

    expect(strong.length).toBeLessThan(fast.length);
  });
});

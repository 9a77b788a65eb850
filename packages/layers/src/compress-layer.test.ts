import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LayerCompression } from '@storepack/image-spec';
import { unpackWithUmoci } from '@storepack/test-utils';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compressLayer, compressLayerOnLane, ZSTD_FRAME_SIZE } from './compress-layer.js';
import {
  copyChunks,
  makeTempDir,
  openFilesBelow,
  readAll,
  removeTree,
  sha256Hex,
  streamError,
  writeFileAt,
} from './layer-fixtures.js';
import type { LayerSource } from './layer-source.js';
import { prepareLayer } from './prepare-layer.js';
import { ZstdLane } from './zstd-lane.js';
import { ZstdPool } from './zstd-pool.js';

const execFileAsync = promisify(execFile);

const HELLO = '/nix/store/4g5h0md7ljtr3ozz1bu12m2m3zt2bxij-hello-2.12';
const DATA = '/nix/store/5h6j1ne8mkus4paa2cv23n3n4au3cyjk-data-1.0';

/** Runs a decompressor on a file and returns its standard output as bytes. */
async function decompress(program: string, args: string[]): Promise<Buffer> {
  const { stdout } = await execFileAsync(program, args, {
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

describe('compressLayer', () => {
  let root: string;
  const pool = new ZstdPool(2);

  beforeEach(async () => {
    root = await makeTempDir();
    await writeFileAt(join(root, HELLO, 'bin/hello'), '#!/bin/sh\necho hello\n', 0o755);
    await writeFileAt(join(root, HELLO, 'share/doc/README'), 'hello world\n'.repeat(1000));
    // Random bytes do not compress, so the zstd blob spans several frames.
    await writeFileAt(join(root, DATA, 'blob'), randomBytes(2 * ZSTD_FRAME_SIZE + 12345));
  });

  afterEach(async () => {
    await removeTree(root);
  });

  afterAll(async () => {
    await pool.close();
  });

  const source = (storePaths = [HELLO, DATA]): LayerSource => ({
    storeDir: '/nix/store',
    storePaths,
    root,
  });

  /** Streams a layer uncompressed, for comparison. */
  async function plainTar(storePaths?: string[]): Promise<Buffer> {
    return readAll((await prepareLayer(source(storePaths))).createStream());
  }

  it.each([
    ['gzip', 'gzip', ['-d', '-c']],
    ['zstd', 'zstd', ['-d', '-c', '-q']],
  ] as const)('%s blob decompresses to the tar', async (compression, program, args) => {
    const compressed = compressLayer(await prepareLayer(source()), compression, { zstdPool: pool });

    const blob = await readAll(compressed.createStream());
    await writeFile(join(root, 'blob'), blob);
    const tar = await decompress(program, [...args, join(root, 'blob')]);

    expect(tar.equals(await plainTar())).toBe(true);
    expect(compressed.layer.diffId()).toBe(`sha256:${sha256Hex(tar)}`);
    expect(compressed.digest()).toBe(`sha256:${sha256Hex(blob)}`);
    expect(compressed.size()).toBe(blob.length);
  });

  it('gzips for a slow consumer', async () => {
    // Files just over the size read whole, each a header chunk and a data chunk, beside small
    // ones: chunks of many sizes queue up in the tar stream while zlib waits for the consumer.
    for (let index = 0; index < 40; index += 1) {
      await writeFileAt(join(root, DATA, 'large', String(index)), randomBytes(300 * 1024 + index));
      await writeFileAt(join(root, DATA, 'small', String(index)), randomBytes(index * 131));
    }
    const compressed = compressLayer(await prepareLayer(source()), 'gzip');

    const chunks: Buffer[] = [];
    for await (const chunk of compressed.chunks()) {
      chunks.push(Buffer.from(chunk));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await writeFile(join(root, 'blob'), Buffer.concat(chunks));

    const tar = await decompress('gzip', ['-d', '-c', join(root, 'blob')]);
    expect(tar.equals(await plainTar())).toBe(true);
  });

  it('writes a fixed gzip header', async () => {
    const compressed = compressLayer(await prepareLayer(source([HELLO])), 'gzip');

    const blob = await readAll(compressed.createStream());

    // Magic, deflate, no flags, mtime 0, no extra flags at level 6, OS 3 (Unix).
    expect(blob.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
  });

  it('splits zstd blobs into fixed-size frames', async () => {
    const layer = await prepareLayer(source());
    const compressed = compressLayer(layer, 'zstd', { zstdPool: pool });
    await writeFile(join(root, 'blob.zst'), await readAll(compressed.createStream()));

    const { stdout } = await execFileAsync('zstd', ['-lv', join(root, 'blob.zst')]);

    expect(stdout).toContain(`# Zstandard Frames: ${Math.ceil(layer.size / ZSTD_FRAME_SIZE)}`);
    expect(stdout).toContain(`(${layer.size} B)`);
  });

  it.each(['none', 'gzip', 'zstd'] as const)(
    '%s gives the same bytes twice',
    async (compression) => {
      const first = compressLayer(await prepareLayer(source()), compression, { zstdPool: pool });
      const second = compressLayer(await prepareLayer(source()), compression, { zstdPool: pool });

      const firstBlob = await readAll(first.createStream());
      const secondBlob = await readAll(second.createStream());

      expect(firstBlob.equals(secondBlob)).toBe(true);
      expect(first.digest()).toBe(second.digest());
    },
  );

  it.each(['none', 'gzip', 'zstd'] as const)(
    '%s chunks match the stream, and zstd reuses their memory',
    async (compression) => {
      const streamed = compressLayer(await prepareLayer(source()), compression, {
        zstdPool: pool,
      });
      const blob = await readAll(streamed.createStream());
      const chunked = compressLayer(await prepareLayer(source()), compression, { zstdPool: pool });

      const { copies, memory } = await copyChunks(chunked.chunks());

      expect(Buffer.concat(copies).equals(blob)).toBe(true);
      expect(chunked.digest()).toBe(streamed.digest());
      expect(chunked.layer.diffId()).toBe(streamed.layer.diffId());
      if (compression === 'zstd') {
        // Every frame after the first two goes into the memory of one already written out.
        expect(copies.length).toBe(Math.ceil(chunked.layer.size / ZSTD_FRAME_SIZE));
        expect(memory.size).toBeLessThan(copies.length);
      }
    },
  );

  it.each([
    ['one worker', false],
    ['all workers', true],
  ] as const)('writes the same zstd blob to a file on %s', async (_workers, spreadFrames) => {
    const streamed = compressLayer(await prepareLayer(source()), 'zstd', { zstdPool: pool });
    const blob = await readAll(streamed.createStream());
    const written = compressLayer(await prepareLayer(source()), 'zstd', {
      zstdPool: pool,
      spreadFrames,
    });
    const path = join(root, 'written.zst');

    await written.writeTo(path);

    expect((await readFile(path)).equals(blob)).toBe(true);
    expect(written.digest()).toBe(streamed.digest());
    expect(written.size()).toBe(blob.length);
    expect(written.layer.diffId()).toBe(streamed.layer.diffId());
  });

  // A writer that waited for a second frame before sending the first would hang here.
  it('writes a zstd blob on a lane of one frame', { timeout: 10_000 }, async () => {
    const streamed = compressLayer(await prepareLayer(source()), 'zstd', { zstdPool: pool });
    const blob = await readAll(streamed.createStream());
    let tarRead = false;
    const use = { lane: new ZstdLane(0, 1), onTarRead: () => (tarRead = true) };
    const written = compressLayerOnLane(
      await prepareLayer(source()),
      'zstd',
      { zstdPool: pool },
      use,
    );
    const path = join(root, 'one-frame-lane.zst');

    // The layer takes three frames, and the lane lets one at a time be in flight.
    await written.writeTo(path);

    expect((await readFile(path)).equals(blob)).toBe(true);
    expect(tarRead).toBe(true);
  });

  it.each(['none', 'gzip'] as const)('writes the same %s blob to a file', async (compression) => {
    const blob = await readAll(
      compressLayer(await prepareLayer(source()), compression).createStream(),
    );
    const written = compressLayer(await prepareLayer(source()), compression);
    const path = join(root, 'written.blob');

    await written.writeTo(path);

    expect((await readFile(path)).equals(blob)).toBe(true);
    expect(written.size()).toBe(blob.length);
  });

  it('writes an empty zstd layer as one empty frame', async () => {
    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [], root });
    const written = compressLayer(layer, 'zstd', { zstdPool: pool });
    const path = join(root, 'empty.zst');

    await written.writeTo(path);
    const tar = await decompress('zstd', ['-d', '-c', '-q', path]);

    expect(tar.length).toBe(layer.size);
    expect(layer.diffId()).toBe(`sha256:${sha256Hex(tar)}`);
  });

  it('fails a zstd write when a file vanished, and closes the blob', async () => {
    const layer = await prepareLayer(source());
    await rm(join(root, DATA, 'blob'));
    const path = join(root, 'failed.zst');

    const error = await compressLayer(layer, 'zstd', { zstdPool: pool })
      .writeTo(path)
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'READ', path: join(root, DATA, 'blob') });
    expect(await openFilesBelow(root)).toEqual([]);
  });

  it('rejects a target file that exists', async () => {
    const path = join(root, 'taken.zst');
    await writeFile(path, 'kept');

    const error = await compressLayer(await prepareLayer(source()), 'zstd', { zstdPool: pool })
      .writeTo(path)
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('kept');
  });

  it('keeps frame memory for reuse when consumers stop early', async () => {
    const fresh = new ZstdPool(2);
    try {
      for (let round = 0; round < 16; round += 1) {
        const compressed = compressLayer(await prepareLayer(source()), 'zstd', { zstdPool: fresh });
        for await (const _chunk of compressed.chunks()) {
          break;
        }
      }
      // Frames still compressing when a consumer stopped come back to the pool once done.
      await new Promise((resolve) => setTimeout(resolve, 200));

      const frame = fresh.takeBuffer(ZSTD_FRAME_SIZE);
      frame.fill(1);
      const output = await fresh.compress(frame, 3, true);

      expect(output.buffer).toBeInstanceOf(SharedArrayBuffer);
    } finally {
      await fresh.close();
    }
  });

  it('fails zstd chunks when a file vanished', async () => {
    const layer = await prepareLayer(source());
    await rm(join(root, DATA, 'blob'));

    const read = async () => {
      for await (const _chunk of compressLayer(layer, 'zstd', { zstdPool: pool }).chunks()) {
        // Only the failure matters here.
      }
    };

    await expect(read()).rejects.toMatchObject({ code: 'READ', path: join(root, DATA, 'blob') });
  });

  it('passes an uncompressed layer through', async () => {
    const layer = await prepareLayer(source());
    const compressed = compressLayer(layer, 'none');

    const blob = await readAll(compressed.createStream());

    expect(blob.length).toBe(layer.size);
    expect(compressed.size()).toBe(layer.size);
    expect(compressed.digest()).toBe(layer.diffId());
  });

  it('compresses two layers at once', async () => {
    const fresh = new ZstdPool(2);
    try {
      const layers = await Promise.all([
        prepareLayer(source([HELLO])),
        prepareLayer(source([DATA])),
      ]);

      const blobs = await Promise.all(
        layers.map((layer) =>
          readAll(compressLayer(layer, 'zstd', { zstdPool: fresh }).createStream()),
        ),
      );

      expect(fresh.peakBusy).toBe(2);
      expect(blobs.every((blob) => blob.length > 0)).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('throws NOT_FINISHED before the stream ends', async () => {
    const compressed = compressLayer(await prepareLayer(source([HELLO])), 'gzip');

    expect(() => compressed.digest()).toThrow(expect.objectContaining({ code: 'NOT_FINISHED' }));
    expect(() => compressed.size()).toThrow(expect.objectContaining({ code: 'NOT_FINISHED' }));
  });

  it('rejects a second stream', async () => {
    const compressed = compressLayer(await prepareLayer(source([HELLO])), 'zstd', {
      zstdPool: pool,
    });
    await readAll(compressed.createStream());

    expect(() => compressed.createStream()).toThrow(
      expect.objectContaining({ code: 'ALREADY_STREAMED' }),
    );
  });

  it('rejects an unknown compression', async () => {
    const layer = await prepareLayer(source([HELLO]));

    expect(() => compressLayer(layer, 'brotli' as LayerCompression)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it.each(['gzip', 'zstd'] as const)(
    '%s stream fails when a file vanished',
    async (compression) => {
      const layer = await prepareLayer(source());
      await rm(join(root, DATA, 'blob'));

      const error = await streamError(
        compressLayer(layer, compression, { zstdPool: pool }).createStream(),
      );

      expect(error).toMatchObject({ code: 'READ', path: join(root, DATA, 'blob') });
    },
  );

  it.each(['gzip', 'zstd'] as const)(
    '%s blobs unpack with skopeo and umoci',
    async (compression) => {
      const layout = join(root, 'oci');
      await mkdir(join(layout, 'blobs/sha256'), { recursive: true });
      const writeBlob = async (bytes: Buffer) => {
        const hex = sha256Hex(bytes);
        await writeFile(join(layout, 'blobs/sha256', hex), bytes);
        return { digest: `sha256:${hex}`, size: bytes.length };
      };

      const descriptors = [];
      const diffIds = [];
      for (const storePaths of [[DATA], [HELLO]]) {
        const compressed = compressLayer(await prepareLayer(source(storePaths)), compression, {
          zstdPool: pool,
        });
        const blob = await readAll(compressed.createStream());
        descriptors.push({
          mediaType: `application/vnd.oci.image.layer.v1.tar+${compression}`,
          ...(await writeBlob(blob)),
        });
        diffIds.push(compressed.layer.diffId());
      }
      const config = await writeBlob(
        Buffer.from(
          JSON.stringify({
            architecture: 'amd64',
            os: 'linux',
            config: {},
            rootfs: { type: 'layers', diff_ids: diffIds },
          }),
        ),
      );
      const manifest = await writeBlob(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
            layers: descriptors,
          }),
        ),
      );
      await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      await writeFile(
        join(layout, 'index.json'),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              ...manifest,
              annotations: { 'org.opencontainers.image.ref.name': 'test' },
            },
          ],
        }),
      );

      // umoci 0.4.7 reads no zstd layers, so skopeo first decompresses them and writes gzip.
      let image = `oci:${layout}:test`;
      if (compression === 'zstd') {
        image = `oci:${join(root, 'gzip-oci')}:test`;
        await execFileAsync('skopeo', [
          'copy',
          '-q',
          '--dest-compress-format',
          'gzip',
          `oci:${layout}:test`,
          image,
        ]);
      }
      const { bundle, cleanup } = await unpackWithUmoci(image as `oci:${string}`);
      try {
        const rootfs = join(bundle, 'rootfs');
        expect((await readdir(join(rootfs, 'nix/store'))).sort()).toEqual(
          [HELLO, DATA].map((path) => path.slice('/nix/store/'.length)).sort(),
        );
        const original = await readFile(join(root, DATA, 'blob'));
        expect((await readFile(join(rootfs, DATA, 'blob'))).equals(original)).toBe(true);
        expect(await readFile(join(rootfs, HELLO, 'bin/hello'), 'utf8')).toBe(
          '#!/bin/sh\necho hello\n',
        );
      } finally {
        await cleanup();
      }
    },
  );
});

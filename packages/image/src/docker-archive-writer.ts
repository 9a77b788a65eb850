import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  canonicalJson,
  computeDigest,
  createImageConfig,
  createRepositories,
  type Digest,
  type DockerArchiveManifest,
  type LegacyLayerJson,
} from '@storepack/image-spec';
import tar from 'tar-stream';
import { ImageError } from './errors.js';
import type { ImagePlan } from './image-plan.js';

/** Digests and names that identify a written image. */
export interface ImageResult {
  /** Digest of the config blob, the image ID that `docker load` and `podman load` report. */
  configDigest: Digest;
  repoTags: string[];
  layers: { id: string; size: number; diffId: Digest }[];
}

/**
 * Streams `plan` to `output` as a docker-archive, the format of `docker save` and `docker load`.
 *
 * Layers stream first, each as `<id>/layer.tar` beside the legacy `<id>/VERSION` and `<id>/json`;
 * the config, `manifest.json` and `repositories` follow. They come last because they contain the
 * diff IDs, which are known only once the layers have streamed. Nothing is buffered but the small metadata files.
 */
export async function writeDockerArchive(plan: ImagePlan, output: Writable): Promise<ImageResult> {
  const pack = tar.pack();
  const streaming = pipeline(pack, output);
  const mtime = plan.created;

  try {
    const layers: ImageResult['layers'] = [];
    let parent: string | undefined;
    for (const { source, layer } of plan.layers) {
      const id = computeDigest(
        canonicalJson({ parent, source: { ...source, root: undefined } }),
      ).slice(7);
      const legacy: LegacyLayerJson = {
        id,
        ...(parent === undefined ? {} : { parent }),
        created: createdText(plan.created),
        container_config: null,
        os: plan.platform.os,
        architecture: plan.platform.architecture,
      };

      addDirectory(pack, `${id}/`, mtime);
      await addFile(pack, `${id}/VERSION`, '1.0', mtime);
      await addFile(pack, `${id}/json`, canonicalJson(legacy), mtime);
      await addStream(pack, `${id}/layer.tar`, layer.size, layer.createStream(), mtime);

      layers.push({ id, size: layer.size, diffId: layer.diffId() });
      parent = id;
    }

    const config = canonicalJson(
      createImageConfig({
        platform: plan.platform,
        created: plan.created,
        diffIds: layers.map((layer) => layer.diffId),
        history: layers.map(() => ({
          created: createdText(plan.created),
          created_by: 'storepack build',
          comment: `store closure of ${plan.closure.roots.join(' ')}`,
        })),
      }),
    );
    const configDigest = computeDigest(config);
    const configName = `${configDigest.slice(7)}.json`;
    const manifest: DockerArchiveManifest = [
      {
        Config: configName,
        RepoTags: plan.repoTags,
        Layers: layers.map(({ id }) => `${id}/layer.tar`),
      },
    ];

    await addFile(pack, configName, config, mtime);
    await addFile(pack, 'manifest.json', canonicalJson(manifest), mtime);
    await addFile(
      pack,
      'repositories',
      canonicalJson(createRepositories(plan.repoTags, parent as string)),
      mtime,
    );
    pack.finalize();
    await streaming;

    return { configDigest, repoTags: plan.repoTags, layers };
  } catch (error) {
    pack.destroy(error as Error);
    await streaming.catch(() => undefined);
    throw error;
  }
}

function createdText(created: Date): string {
  return created.toISOString().replace('.000Z', 'Z');
}

function header(name: string, mtime: Date) {
  return { name, mtime, uid: 0, gid: 0, uname: '', gname: '' };
}

function addDirectory(pack: tar.Pack, name: string, mtime: Date): void {
  pack.entry({ ...header(name, mtime), type: 'directory', mode: 0o755 });
}

function addFile(pack: tar.Pack, name: string, content: string, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ ...header(name, mtime), type: 'file', mode: 0o644 }, content, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}

/**
 * Adds an entry whose bytes come from `source`; it must yield exactly `size` bytes. A failing
 * source rejects with its own error, which names the file that could not be read.
 */
function addStream(
  pack: tar.Pack,
  name: string,
  size: number,
  source: Readable,
  mtime: Date,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = pack.entry(
      { ...header(name, mtime), type: 'file', mode: 0o644, size },
      (error) => {
        if (error) {
          reject(
            new ImageError('LAYER_MISMATCH', `writing ${name}: ${error.message}`, { cause: error }),
          );
        } else {
          resolve();
        }
      },
    );
    // Once the source has failed, the entry's own error only repeats it; without a listener it
    // would be thrown as an uncaught 'error' event.
    entry.on('error', () => undefined);
    source.on('error', (error) => {
      reject(error);
      entry.destroy(error);
    });
    source.pipe(entry);
  });
}

import type { Writable } from 'node:stream';
import {
  canonicalJson,
  computeDigest,
  createRepositories,
  type Digest,
  type DockerArchiveManifest,
  formatCreated,
  type LegacyLayerJson,
  type Platform,
} from '@storepack/image-spec';
import { imageConfigBytes } from './image-config-bytes.js';
import type { ImageLayer } from './image-layer.js';
import type { ImagePlan } from './image-plan.js';
import { TarSink } from './tar-sink.js';
import { type BuildProgress, reportProgress } from './write-progress.js';

/** Digests and names that identify a written image. */
export interface ImageResult {
  /** Digest of the config blob, the image ID that `docker load` and `podman load` report. */
  configDigest: Digest;
  platform: Platform;
  repoTags: string[];
  layers: { id: string; size: number; diffId: Digest }[];
}

/** Settings of {@link writeDockerArchive}. */
export interface WriteOptions {
  /** Stops the writing; the returned promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Receives the closure's size and the bytes written of each layer, for a progress display. */
  onProgress?: (progress: BuildProgress) => void;
  /**
   * Set when the output is done with each chunk once the chunk's write callback has run, as
   * Node's own file streams and sockets are. Blobs from the layer cache are then read through a
   * few reused buffers, and layers from the store are written into them. Leave it unset for a
   * stream that may keep its chunks, such as one that collects them or a file stream over a
   * custom `fs`.
   */
  outputReleasesChunks?: boolean;
}

/**
 * Streams `plan` to `output` as a docker-archive, the format of `docker save` and `docker load`.
 *
 * Layers stream first, each as `<id>/layer.tar` beside the legacy `<id>/VERSION` and `<id>/json`;
 * the config, `manifest.json` and `repositories` follow. They come last because they contain the
 * diff IDs, which are known only once the layers have streamed. Nothing is buffered but the small
 * metadata files.
 */
export async function writeDockerArchive(
  plan: ImagePlan,
  output: Writable,
  options: WriteOptions = {},
): Promise<ImageResult> {
  const archive = new TarSink(output, plan.created, options.signal, {
    reuseReadBuffers: options.outputReleasesChunks === true,
  });

  try {
    const streamed: { id: string; layer: ImageLayer }[] = [];
    let parent: string | undefined;
    for (const layer of plan.layers) {
      const id = computeDigest(
        canonicalJson({
          parent,
          compression: layer.compression,
          source: { ...layer.source, root: undefined },
        }),
      ).slice(7);
      const legacy: LegacyLayerJson = {
        id,
        ...(parent === undefined ? {} : { parent }),
        created: formatCreated(plan.created),
        container_config: null,
        os: plan.platform.os,
        architecture: plan.platform.architecture,
      };

      await archive.addDirectory(`${id}/`);
      await archive.addFile(`${id}/VERSION`, '1.0');
      await archive.addFile(`${id}/json`, canonicalJson(legacy));
      const stream = reportProgress(
        layer.path === undefined
          ? layer.createStream(archive.chunkMemory)
          : archive.readFile(layer.path),
        { layer: streamed.length + 1, layers: plan.layers.length, size: layer.size },
        options.onProgress,
      );
      await archive.addStream(`${id}/layer.tar`, layer.size, stream);

      streamed.push({ id, layer });
      parent = id;
    }

    // Requested only now, so that no layer waits for the hashing of the one before it.
    const layers: ImageResult['layers'] = streamed.map(({ id, layer }) => ({
      id,
      size: layer.size,
      diffId: layer.diffId(),
    }));

    const config = imageConfigBytes(
      plan,
      layers.map((layer) => layer.diffId),
    );
    const configDigest = config.digest;
    const configName = `${configDigest.slice(7)}.json`;
    const manifest: DockerArchiveManifest = [
      {
        Config: configName,
        RepoTags: plan.repoTags,
        Layers: layers.map(({ id }) => `${id}/layer.tar`),
      },
    ];

    await archive.addFile(configName, config.bytes);
    await archive.addFile('manifest.json', canonicalJson(manifest));
    await archive.addFile(
      'repositories',
      canonicalJson(createRepositories(plan.repoTags, parent as string)),
    );
    await archive.finish();

    return { configDigest, platform: plan.platform, repoTags: plan.repoTags, layers };
  } catch (error) {
    await archive.destroy(error as Error);
    throw error;
  }
}

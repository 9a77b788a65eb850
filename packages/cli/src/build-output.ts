import type { BuildResult } from '@storepack/image';

/**
 * Formats what `storepack build --json` prints: one object with the format, the output path, the
 * digests that identify the image and its layers, and the time taken.
 */
export function formatBuildJson(result: BuildResult, output: string, seconds: number): string {
  const document =
    result.format === 'docker-archive'
      ? {
          format: result.format,
          output,
          references: result.repoTags,
          configDigest: result.configDigest,
          manifestDigest: null,
          images: [
            {
              platform: result.platform,
              configDigest: result.configDigest,
              layers: result.layers.map((layer) => ({
                digest: layer.diffId,
                diffId: layer.diffId,
                size: layer.size,
              })),
            },
          ],
          seconds,
        }
      : {
          format: result.format,
          output,
          references: result.refNames,
          configDigest: result.images[0]?.configDigest ?? null,
          manifestDigest: result.manifestDigest,
          images: result.images.map((image) => ({
            platform: image.platform,
            configDigest: image.configDigest,
            layers: image.layers.map(({ digest, diffId, size }) => ({ digest, diffId, size })),
          })),
          seconds,
        };
  return `${JSON.stringify(document, null, 2)}\n`;
}

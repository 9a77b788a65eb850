import type { Writable } from 'node:stream';
import { writeFileAtomically } from './atomic-file.js';
import {
  type ImageResult,
  type WriteOptions,
  writeDockerArchive,
} from './docker-archive-writer.js';
import { ImageError } from './errors.js';
import { type ImageOptions, type ImagePlan, planImage } from './image-plan.js';
import { writeOciArchive } from './oci-archive-writer.js';
import { writeOciLayout } from './oci-layout-target.js';
import type { OciImageResult } from './oci-layout-writer.js';
import { asWriteError } from './write-error.js';

/** Destination of an image: a file or folder, written under a temporary name and renamed, or an open stream. */
export type ImageTarget =
  | { path: string }
  /** `name` is the stream's name in error messages, in place of a path. */
  | { stream: Writable; name?: string };

/** Output format of an image: `docker save`'s archive, an OCI layout folder, or a tar of one. */
export type OutputFormat = 'docker-archive' | 'oci' | 'oci-archive';

/** Result of {@link buildImage}, by format. */
export type BuildResult =
  | ({ format: 'docker-archive' } & ImageResult)
  | ({ format: 'oci' | 'oci-archive' } & OciImageResult);

/**
 * Builds the image of `options.paths` and their closure into `target`, as a docker-archive unless
 * `format` names another. Every option is checked and the closure found before the target is
 * touched, so bad input leaves no file.
 */
export async function buildImage(
  options: ImageOptions & { format?: OutputFormat },
  target: ImageTarget,
  writeOptions: WriteOptions = {},
): Promise<BuildResult> {
  return buildMultiPlatformImage(
    [options],
    options.format ?? 'docker-archive',
    target,
    writeOptions,
  );
}

/**
 * Builds one image per entry of `images`, each for its own `system`, into one OCI layout or
 * oci-archive whose index lists a manifest per platform. The tags are those of the first entry.
 * A docker-archive contains a single platform, so it takes exactly one entry.
 */
export async function buildMultiPlatformImage(
  images: ImageOptions[],
  format: OutputFormat,
  target: ImageTarget,
  writeOptions: WriteOptions = {},
): Promise<BuildResult> {
  if (format === 'oci' && 'stream' in target) {
    throw new ImageError(
      'INVALID_OPTION',
      'an OCI layout is a folder and cannot go to a stream: give a folder path, or use the oci-archive format',
    );
  }
  if (format === 'docker-archive' && images.length !== 1) {
    throw new ImageError(
      'INVALID_OPTION',
      `a docker-archive holds one platform, but ${images.length} systems were given: use --format oci or oci-archive`,
    );
  }

  if (format === 'docker-archive' && images.some((options) => options.compression === 'zstd')) {
    throw new ImageError(
      'INVALID_OPTION',
      'a docker-archive takes uncompressed or gzip layers, since docker load reads no zstd: use --compress gzip, or --format oci',
    );
  }

  const plans: ImagePlan[] = [];
  try {
    for (const options of images) {
      const plan = await planImage(options, writeOptions.signal);
      plans.push(plan);
      writeOptions.onProgress?.({
        kind: 'closure',
        items: plan.closure.items.length,
        source: plan.closure.source,
      });
    }
    const tags = plans[0]?.repoTags ?? [];
    if (format === 'oci-archive' && tags.length > 1) {
      throw new ImageError(
        'INVALID_OPTION',
        `an oci-archive holds one reference, since podman load and skopeo read only one, but ${tags.length} tags were given: give one --tag, or use --format oci`,
      );
    }
    return await writePlans(plans, format, target, writeOptions);
  } finally {
    for (const plan of plans) {
      await plan.cleanup();
    }
  }
}

async function writePlans(
  plans: ImagePlan[],
  format: OutputFormat,
  target: ImageTarget,
  writeOptions: WriteOptions,
): Promise<BuildResult> {
  if (format === 'oci') {
    const path = (target as { path: string }).path;
    const result = await writeOciLayout(plans, path, writeOptions);
    return { format, ...result };
  }
  if (format === 'oci-archive') {
    const result = await writeTo(target, writeOptions, (output, options) =>
      writeOciArchive(plans, output, options),
    );
    return { format, ...result };
  }
  const result = await writeTo(target, writeOptions, (output, options) =>
    writeDockerArchive(plans[0] as ImagePlan, output, options),
  );
  return { format, ...result };
}

/** Calls `write` with the target's stream, or with a file stream of its own, which releases chunks. */
function writeTo<T>(
  target: ImageTarget,
  writeOptions: WriteOptions,
  write: (output: Writable, options: WriteOptions) => Promise<T>,
): Promise<T> {
  if ('stream' in target) {
    const name =
      target.name ?? (target.stream === process.stdout ? 'standard output' : 'the output stream');
    // Only a failed write is the stream's, such as a full disk. A failed read names its own file.
    return write(target.stream, writeOptions).catch((error: unknown) => {
      throw error instanceof Error && 'syscall' in error && error.syscall === 'write'
        ? asWriteError(name, error)
        : error;
    });
  }
  return writeFileAtomically(target.path, (output) =>
    write(output, { ...writeOptions, outputReleasesChunks: true }),
  );
}

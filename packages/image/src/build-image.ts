import type { Writable } from 'node:stream';
import { writeFileAtomically } from './atomic-file.js';
import { writeFolderAtomically } from './atomic-folder.js';
import {
  type ImageResult,
  type WriteOptions,
  writeDockerArchive,
} from './docker-archive-writer.js';
import { ImageError } from './errors.js';
import { type ImageOptions, type ImagePlan, planImage } from './image-plan.js';
import { writeOciArchive } from './oci-archive-writer.js';
import { type OciImageResult, writeOciLayoutInto } from './oci-layout-writer.js';

/** Destination of an image: a file or folder, written under a temporary name and renamed, or an open stream. */
export type ImageTarget = { path: string } | { stream: Writable };

/** How an image is written: `docker save`'s archive, an OCI layout folder, or a tar of one. */
export type OutputFormat = 'docker-archive' | 'oci' | 'oci-archive';

/** What {@link buildImage} wrote, by format. */
export type BuildResult =
  | ({ format: 'docker-archive' } & ImageResult)
  | ({ format: 'oci' | 'oci-archive' } & OciImageResult);

/**
 * Builds the image of `options.paths` and their closure into `target`, as a docker-archive unless
 * `format` says otherwise. Every option is checked and the closure found before the target is
 * touched, so bad input leaves no file.
 */
export async function buildImage(
  options: ImageOptions & { format?: OutputFormat },
  target: ImageTarget,
  writeOptions: WriteOptions = {},
): Promise<BuildResult> {
  const format = options.format ?? 'docker-archive';
  if (format === 'oci' && 'stream' in target) {
    throw new ImageError(
      'INVALID_OPTION',
      'an OCI layout is a folder and cannot go to a stream: give a folder path, or use the oci-archive format',
    );
  }
  const plan = await planImage(options);
  return writeImage(plan, format, target, writeOptions);
}

async function writeImage(
  plan: ImagePlan,
  format: OutputFormat,
  target: ImageTarget,
  writeOptions: WriteOptions,
): Promise<BuildResult> {
  if (format === 'oci') {
    const path = (target as { path: string }).path;
    const result = await writeFolderAtomically(path, (folder) =>
      writeOciLayoutInto(plan, folder, writeOptions),
    );
    return { format, ...result };
  }

  const write: (
    plan: ImagePlan,
    output: Writable,
    options: WriteOptions,
  ) => Promise<ImageResult | OciImageResult> =
    format === 'oci-archive' ? writeOciArchive : writeDockerArchive;
  const written =
    'stream' in target
      ? await write(plan, target.stream, writeOptions)
      : await writeFileAtomically(target.path, (output) => write(plan, output, writeOptions));
  return { format, ...written } as BuildResult;
}

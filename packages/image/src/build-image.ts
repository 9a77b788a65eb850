import type { Writable } from 'node:stream';
import { writeFileAtomically } from './atomic-file.js';
import {
  type ImageResult,
  type WriteOptions,
  writeDockerArchive,
} from './docker-archive-writer.js';
import { type ImageOptions, planImage } from './image-plan.js';

/** Destination of an image: a file, written under a temporary name and renamed, or an open stream. */
export type ImageTarget = { path: string } | { stream: Writable };

/**
 * Builds the docker-archive of `options.paths` and their closure into `target`. Every option is
 * checked and the closure found before the target is touched, so bad input leaves no file.
 */
export async function buildImage(
  options: ImageOptions,
  target: ImageTarget,
  writeOptions: WriteOptions = {},
): Promise<ImageResult> {
  const plan = await planImage(options);

  if ('stream' in target) {
    return writeDockerArchive(plan, target.stream, writeOptions);
  }
  return writeFileAtomically(target.path, (output) =>
    writeDockerArchive(plan, output, writeOptions),
  );
}

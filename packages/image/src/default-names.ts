import { basename } from 'node:path';
import { parseStorePath } from '@storepack/closure';

/**
 * Derives the tag that the original Guix image builder gives an image of `storePath`:
 * `<name>:<hash part>`. The name is the first dash-separated word of the item's name
 * (`…-hello-app-2.12` gives `hello`), lower-cased. Characters that a repository name may not
 * contain are replaced by `-`.
 */
export function defaultRepoTag(storePath: string): string {
  const { hashPart, name } = parseStorePath(storePath);
  const firstWord = name.split('-')[0] ?? '';
  const repository = firstWord
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    // Between letters the grammar allows one '.', one or two '_', or any number of '-'.
    .replace(/[._-]{2,}/g, (run) => (run === '__' || /^-+$/.test(run) ? run : '-'))
    // A repository path component must start and end with a letter or digit.
    .replace(/^[._-]+|[._-]+$/g, '');

  return `${repository === '' ? 'image' : repository}:${hashPart}`;
}

/** Returns the file name the original writes when no output is given: `docker-image-<basename>.tar`. */
export function defaultArchiveFileName(storePath: string): string {
  return `docker-image-${basename(storePath)}.tar`;
}

/**
 * Returns the output name for `format` when none is given: the original's for a docker-archive,
 * `oci-image-<basename>` for an OCI layout folder and `oci-image-<basename>.tar` for an oci-archive.
 */
export function defaultOutputName(
  storePath: string,
  format: 'docker-archive' | 'oci' | 'oci-archive',
): string {
  if (format === 'docker-archive') {
    return defaultArchiveFileName(storePath);
  }
  return `oci-image-${basename(storePath)}${format === 'oci-archive' ? '.tar' : ''}`;
}

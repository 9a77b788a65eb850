import type { Digest } from '@storepack/image-spec';

/** Blobs remembered per registry, more than the layers of many pushes. */
const MAX_REMEMBERED_BLOBS = 10_000;

/** For each registry, the repositories that each blob was pushed to or found in by this process. */
const knownBlobs = new Map<string, Map<Digest, string[]>>();

/** Records that `repository` on `registry` contains the blob `digest`. */
export function rememberBlob(registry: string, repository: string, digest: Digest): void {
  let blobs = knownBlobs.get(registry);
  if (blobs === undefined) {
    blobs = new Map();
    knownBlobs.set(registry, blobs);
  }
  const repositories = blobs.get(digest) ?? [];
  blobs.delete(digest);
  blobs.set(digest, [repository, ...repositories.filter((known) => known !== repository)]);

  // The Map keeps insertion order, so the first key is the blob used longest ago.
  if (blobs.size > MAX_REMEMBERED_BLOBS) {
    const oldest = blobs.keys().next().value;
    if (oldest !== undefined) blobs.delete(oldest);
  }
}

/** Returns the repositories on `registry` known to contain `digest`, most recent first. */
export function repositoriesWithBlob(registry: string, digest: Digest): string[] {
  return knownBlobs.get(registry)?.get(digest) ?? [];
}

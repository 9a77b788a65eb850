import type { PushResult } from '@storepack/image';

/** Formats a push result as `storepack push` prints it: the reference, the digest and blob counts. */
export function formatPushResult(result: PushResult): string {
  const count = (status: string) => result.blobs.filter((blob) => blob.status === status).length;
  const uploaded = result.blobs
    .filter((blob) => blob.status === 'pushed')
    .reduce((sum, blob) => sum + blob.size, 0);
  return [
    `Pushed: ${result.reference}`,
    `Digest: ${result.manifestDigest}`,
    `Blobs: ${count('pushed')} pushed (${uploaded} bytes), ${count('skipped')} skipped, ${count('mounted')} mounted`,
    '',
  ].join('\n');
}

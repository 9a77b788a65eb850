import type { Digest } from '@storepack/image-spec';
import type { Logger } from '../logger.js';
import { unexpected } from './blob-upload.js';
import { RegistryError } from './errors.js';
import type { ManifestVariant } from './push-source.js';
import type { RegistryClient } from './registry-client.js';
import { describeErrors, header } from './registry-response.js';

/**
 * Stores a manifest under `tag`, or under its digest when `tag` is undefined, offering its
 * encodings in order. When
 * the registry rejects one as invalid or unsupported (400 or 415), the next is offered, so a
 * registry without OCI support gets the Docker schema 2 encoding. Returns the encoding kept.
 */
export async function putManifest(
  client: RegistryClient,
  repository: string,
  tag: string | undefined,
  variants: ManifestVariant[],
  logger?: Logger,
): Promise<ManifestVariant> {
  const rejections: string[] = [];

  for (const variant of variants) {
    const target = tag ?? variant.digest;
    const action = `storing manifest ${variant.digest} as ${repository}:${target}`;
    const response = await client.send({
      method: 'PUT',
      target: `/v2/${repository}/manifests/${target}`,
      headers: {
        'Content-Type': variant.mediaType,
        'Content-Length': String(variant.bytes.length),
      },
      body: variant.bytes,
      action,
      retry: true,
    });

    if (response.status === 201) {
      checkDigest(header(response, 'docker-content-digest'), variant.digest, action, logger);
      return variant;
    }
    if (response.status !== 400 && response.status !== 415) {
      throw unexpected(action, response, client);
    }
    rejections.push(`${variant.mediaType}: ${response.status}${describeErrors(response)}`);
    logger?.debug('the registry rejected a manifest encoding', {
      mediaType: variant.mediaType,
      status: response.status,
    });
  }

  throw new RegistryError(
    'REGISTRY',
    `storing the manifest of ${repository}:${tag ?? 'its digest'} at ${client.baseUrl.host}: the registry rejected every encoding: ${rejections.join('; ')}`,
  );
}

/** Warns when a registry names the stored manifest by a digest other than that of its bytes. */
function checkDigest(
  reported: string | undefined,
  expected: Digest,
  action: string,
  logger: Logger | undefined,
): void {
  if (reported !== undefined && reported !== expected) {
    logger?.warn('the registry reports another digest for the manifest', {
      action,
      expected,
      reported,
    });
  }
}

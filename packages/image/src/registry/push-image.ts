import { type Digest, formatReference } from '@storepack/image-spec';
import type { Logger } from '../logger.js';
import { type BlobStatus, uploadBlob } from './blob-upload.js';
import { findCredentials } from './credentials.js';
import { RegistryError } from './errors.js';
import { createAgents, destroyAgents } from './http-request.js';
import { isInsecureRegistry } from './insecure-registries.js';
import { putManifest } from './manifest-upload.js';
import { rememberBlob, repositoriesWithBlob } from './mount-sources.js';
import { openPushSource } from './open-push-source.js';
import { parsePushReference } from './push-reference.js';
import type { SourceBlob } from './push-source.js';
import { RegistryClient } from './registry-client.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';

/** Options of {@link pushImage}. */
export interface PushOptions {
  /** Registries, as `HOST` or `HOST:PORT`, reached over plain HTTP instead of verified HTTPS. */
  insecureRegistries?: string[];
  /** Repositories of the destination registry to mount blobs from before uploading them. */
  mountFrom?: string[];
  /** Blobs up to this many bytes go in one request; larger ones in chunks of it. Default 16 MiB. */
  chunkSize?: number;
  /** Blobs uploaded at once. Default 3. */
  concurrency?: number;
  /** Retries of failed requests; by default five tries with exponential backoff from 200 ms. */
  retry?: Partial<RetryPolicy>;
  /** Environment to find auth files in (`REGISTRY_AUTH_FILE`, `HOME`…); `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** Stops the push when aborted, ending the request in flight; the push rejects with its reason. */
  signal?: AbortSignal;
  logger?: Logger;
}

/** One blob of a pushed image and what the push did with it. */
export interface PushedBlob {
  digest: Digest;
  /** Size in bytes. */
  size: number;
  /** `pushed` (uploaded), `skipped` (the repository had it) or `mounted` (from another repository). */
  status: BlobStatus;
}

/** Result of {@link pushImage}. */
export interface PushResult {
  /** The destination in full, such as `127.0.0.1:5000/team/hello:1`. */
  reference: string;
  /** Digest of the manifest (or index) stored under the tag: what `NAME@DIGEST` pulls. */
  manifestDigest: Digest;
  /** Media type of that manifest, OCI or Docker schema 2. */
  manifestMediaType: string;
  /** Every config and layer blob, each once, in manifest order. */
  blobs: PushedBlob[];
}

/** Default chunk size: large enough that chunk round trips cost little, small enough to resend. */
const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/**
 * Pushes the image at `image` (a docker-archive, oci-archive or OCI image layout folder) to
 * `reference`, such as `127.0.0.1:5000/team/hello:1`, over the OCI distribution API. Blobs the
 * repository has are not uploaded, blobs another repository has are mounted, and the manifest
 * is stored last. Raises `RegistryError` with code `INVALID_REFERENCE` before anything is sent
 * when the reference names no registry host.
 */
export async function pushImage(
  image: string,
  reference: string,
  options: PushOptions = {},
): Promise<PushResult> {
  const destination = parsePushReference(reference);
  if (destination.digest !== undefined) {
    throw new RegistryError(
      'INVALID_REFERENCE',
      `invalid push reference "${reference}": expected a tag, found a digest: the registry names the manifest by its digest itself`,
    );
  }
  const { registry, repository } = destination;
  const tag = destination.tag ?? 'latest';
  const secure = !isInsecureRegistry(registry, options.insecureRegistries ?? []);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!(chunkSize > 0) || !Number.isInteger(chunkSize)) {
    throw new RegistryError(
      'INVALID_OPTION',
      `invalid chunk size ${chunkSize}: expected a positive whole number of bytes`,
    );
  }
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const { logger, signal } = options;

  const source = await openPushSource(image, tag);
  const agents = createAgents();
  try {
    const credentials = await findCredentials(registry, repository, {
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(logger === undefined ? {} : { logger }),
    });
    const blobs = uniqueBlobs([
      ...source.children.flatMap((child) => child.blobs),
      ...source.top.blobs,
    ]);
    const mountSources = (blob: SourceBlob) => [
      ...new Set([...(options.mountFrom ?? []), ...repositoriesWithBlob(registry, blob.digest)]),
    ];
    const sourceRepositories = new Set(blobs.flatMap(mountSources));
    sourceRepositories.delete(repository);
    const client = new RegistryClient({
      registry,
      secure,
      credentials,
      scopes: [
        `repository:${repository}:pull,push`,
        ...[...sourceRepositories].map((from) => `repository:${from}:pull`),
      ],
      retry,
      agents,
      ...(signal === undefined ? {} : { signal }),
      ...(logger === undefined ? {} : { logger }),
    });

    await checkApi(client, registry);
    const statuses = await forEachLimited(blobs, options.concurrency ?? 3, async (blob) => {
      signal?.throwIfAborted();
      const status = await uploadBlob(client, repository, blob, {
        chunkSize,
        mountFrom: mountSources(blob),
        retry,
        ...(logger === undefined ? {} : { logger }),
      });
      rememberBlob(registry, repository, blob.digest);
      logger?.debug('blob ready', { digest: blob.digest, size: blob.size, status });
      return status;
    });

    for (const child of source.children) {
      signal?.throwIfAborted();
      await putManifest(client, repository, undefined, child.variants, logger);
    }
    signal?.throwIfAborted();
    const stored = await putManifest(client, repository, tag, source.top.variants, logger);

    return {
      reference: formatReference({ registry, repository, tag }),
      manifestDigest: stored.digest,
      manifestMediaType: stored.mediaType,
      blobs: blobs.map((blob, index) => ({
        digest: blob.digest,
        size: blob.size,
        status: statuses[index] as BlobStatus,
      })),
    };
  } finally {
    destroyAgents(agents);
    await source.cleanup();
  }
}

/** Checks that the registry serves the distribution API at `/v2/`, authenticating when challenged. */
async function checkApi(client: RegistryClient, registry: string): Promise<void> {
  const response = await client.send({
    method: 'GET',
    target: '/v2/',
    action: 'checking the registry API',
    retry: true,
  });
  if (response.status !== 200) {
    throw new RegistryError(
      'REGISTRY',
      `checking the registry API at ${registry}: expected 200 from ${client.baseUrl.href}v2/, found ${response.status}: is this a container registry?`,
      { status: response.status },
    );
  }
}

function uniqueBlobs(blobs: SourceBlob[]): SourceBlob[] {
  const seen = new Map<Digest, SourceBlob>();
  for (const blob of blobs) {
    if (!seen.has(blob.digest)) seen.set(blob.digest, blob);
  }
  return [...seen.values()];
}

/** Runs `work` on every item, at most `limit` at once, and returns the results in item order. */
async function forEachLimited<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

import type { Logger } from '../logger.js';
import { RegistryError } from './errors.js';
import type { HttpResponse } from './http-request.js';
import type { SourceBlob } from './push-source.js';
import type { RegistryClient } from './registry-client.js';
import { describeErrors, header } from './registry-response.js';
import { type Attempt, isTransientStatus, type RetryPolicy, withRetries } from './retry.js';

/** Outcome of pushing a blob: uploaded, already in the repository, or mounted from another one. */
export type BlobStatus = 'pushed' | 'skipped' | 'mounted';

/** Settings of blob uploads. */
export interface BlobUploadOptions {
  /** Blobs up to this size go in one PUT; larger ones in PATCH requests of this size. */
  chunkSize: number;
  /** Repositories of the same registry to mount the blob from, tried in order. */
  mountFrom: string[];
  retry: RetryPolicy;
  logger?: Logger;
}

/**
 * Makes `blob` present in `repository`: nothing when a HEAD finds it there, a cross-repository
 * mount when one of `mountFrom` has it, else an upload. An upload that fails for a passing reason
 * (a dropped connection, 429 or 5xx) starts again with a new upload session.
 */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  blob: SourceBlob,
  options: BlobUploadOptions,
): Promise<BlobStatus> {
  const blobUrl = `/v2/${repository}/blobs/${blob.digest}`;
  const head = await client.send({
    method: 'HEAD',
    target: blobUrl,
    action: `checking blob ${blob.digest}`,
    retry: true,
  });
  if (head.status === 200) {
    return 'skipped';
  }
  if (head.status !== 404) {
    throw unexpected(`checking blob ${blob.digest}`, head, client);
  }

  const action = `uploading blob ${blob.digest}`;
  const outcome = await withRetries(
    action,
    options.retry,
    async (): Promise<Attempt<BlobStatus>> => {
      try {
        return { done: true, value: await uploadOnce(client, repository, blob, options) };
      } catch (error) {
        if (!isPassing(error)) throw error;
        const reason = (error as Error).message;
        return { done: false, reason, error, ...statusOf(error) };
      }
    },
    options.logger,
  );
  if (!outcome.done) {
    throw outcome.error;
  }
  return outcome.value;
}

/** Mounts or uploads a blob through one upload session. */
async function uploadOnce(
  client: RegistryClient,
  repository: string,
  blob: SourceBlob,
  options: BlobUploadOptions,
): Promise<BlobStatus> {
  const uploads = `/v2/${repository}/blobs/uploads/`;
  let session: HttpResponse | undefined;

  for (const from of options.mountFrom.filter((source) => source !== repository)) {
    if (session !== undefined) {
      await cancel(client, session);
    }
    const query = new URLSearchParams({ mount: blob.digest, from });
    session = await client.send({
      method: 'POST',
      target: `${uploads}?${query}`,
      headers: { 'Content-Length': '0' },
      action: `mounting blob ${blob.digest} from ${from}`,
      retry: true,
    });
    if (session.status === 201) {
      return 'mounted';
    }
    if (session.status !== 202) {
      throw unexpected(`mounting blob ${blob.digest} from ${from}`, session, client);
    }
  }

  session ??= await client.send({
    method: 'POST',
    target: uploads,
    headers: { 'Content-Length': '0' },
    action: `starting the upload of blob ${blob.digest}`,
    retry: true,
  });
  if (session.status !== 202) {
    throw unexpected(`starting the upload of blob ${blob.digest}`, session, client);
  }

  // A registry may require larger chunks than ours, in an `OCI-Chunk-Min-Length` header.
  const minimum = Number(header(session, 'oci-chunk-min-length') ?? 0);
  const chunkSize = Math.max(options.chunkSize, Number.isFinite(minimum) ? minimum : 0);
  let location = locationOf(session, client);
  if (blob.size > chunkSize) {
    location = await sendChunks(client, blob, location, chunkSize);
  }

  const finish = new URL(location);
  finish.searchParams.set('digest', blob.digest);
  const monolithic = blob.size <= chunkSize;
  const done = await client.send({
    method: 'PUT',
    target: finish.href,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(monolithic ? blob.size : 0),
    },
    ...(monolithic ? { body: () => blob.open() } : {}),
    action: `finishing the upload of blob ${blob.digest}`,
    retry: false,
  });
  if (done.status !== 201) {
    throw unexpected(`finishing the upload of blob ${blob.digest}`, done, client);
  }
  return 'pushed';
}

/** Sends a blob in PATCH requests of `chunkSize` bytes; returns the location to finish at. */
async function sendChunks(
  client: RegistryClient,
  blob: SourceBlob,
  start: string,
  chunkSize: number,
): Promise<string> {
  let location = start;
  for (let offset = 0; offset < blob.size; offset += chunkSize) {
    const end = Math.min(offset + chunkSize, blob.size);
    const action = `uploading bytes ${offset}-${end - 1} of blob ${blob.digest}`;
    const response = await client.send({
      method: 'PATCH',
      target: location,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${offset}-${end - 1}`,
        'Content-Length': String(end - offset),
      },
      body: () => blob.open(offset, end),
      action,
      retry: false,
    });
    if (response.status !== 202) {
      throw unexpected(action, response, client);
    }
    const range = header(response, 'range');
    if (range !== undefined && range !== `0-${end - 1}` && range !== `bytes=0-${end - 1}`) {
      throw new RegistryError(
        'REGISTRY',
        `${action}: expected the registry to hold bytes 0-${end - 1}, it reports ${range}`,
      );
    }
    location = locationOf(response, client);
  }
  return location;
}

/** Ends an upload session that a mount attempt opened but that will not be used. */
async function cancel(client: RegistryClient, session: HttpResponse): Promise<void> {
  const location = header(session, 'location');
  if (location === undefined) return;
  await client
    .send({ method: 'DELETE', target: location, action: 'cancelling an upload', retry: false })
    .catch(() => undefined);
}

function locationOf(response: HttpResponse, client: RegistryClient): string {
  const location = header(response, 'location');
  if (location === undefined) {
    throw new RegistryError(
      'REGISTRY',
      `uploading to ${client.baseUrl.host}: the registry responded with ${response.status} and no Location header`,
      { status: response.status },
    );
  }
  return new URL(location, client.baseUrl).href;
}

/** Builds the error for a response whose status the protocol does not allow at that step. */
export function unexpected(
  action: string,
  response: HttpResponse,
  client: RegistryClient,
): RegistryError {
  return new RegistryError(
    'REGISTRY',
    `${action} at ${client.baseUrl.host}: unexpected status ${response.status}${describeErrors(response)}`,
    { status: response.status },
  );
}

/** Checks whether an upload failed for a reason that a new upload session may not meet. */
function isPassing(error: unknown): boolean {
  if (!(error instanceof RegistryError)) return false;
  return (
    error.code === 'CONNECTION' || (error.status !== undefined && isTransientStatus(error.status))
  );
}

function statusOf(error: unknown): { status?: number } {
  return error instanceof RegistryError && error.status !== undefined
    ? { status: error.status }
    : {};
}

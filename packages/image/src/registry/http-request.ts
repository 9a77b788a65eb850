import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** One HTTP request, with a body that can be sent again when the request is retried. */
export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** The bytes to send, or a function that opens a fresh stream of them for each attempt. */
  body?: Buffer | (() => Readable);
  /** Aborts the request, which then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A response with its body read, up to {@link MAX_RESPONSE_BYTES}. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Connection pools for plain and TLS requests, kept open between requests to one registry. */
export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

/** Largest response body kept; registry responses are short JSON documents or empty. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Time a socket may stay silent before the request fails as a dropped connection. */
const IDLE_TIMEOUT_MS = 60_000;

/** Opens keep-alive connection pools. TLS certificates are verified, as Node does by default. */
export function createAgents(): HttpAgents {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets: 8 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 8 }),
  };
}

/** Closes every pooled connection. */
export function destroyAgents(agents: HttpAgents): void {
  agents.http.destroy();
  agents.https.destroy();
}

/**
 * Sends one request without following redirects and reads the response. A connection that drops
 * or stays silent for a minute raises the socket's error, such as `ECONNRESET`.
 */
export function sendRequest(request: HttpRequest, agents: HttpAgents): Promise<HttpResponse> {
  const secure = request.url.protocol === 'https:';
  const send = secure ? https.request : http.request;

  return new Promise<HttpResponse>((resolve, reject) => {
    const outgoing = send(request.url, {
      method: request.method,
      headers: request.headers ?? {},
      agent: secure ? agents.https : agents.http,
      timeout: IDLE_TIMEOUT_MS,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    outgoing.on('timeout', () => {
      outgoing.destroy(
        Object.assign(new Error(`timed out after ${IDLE_TIMEOUT_MS / 1000} s without data`), {
          code: 'ETIMEDOUT',
        }),
      );
    });
    outgoing.on('error', (error) =>
      reject(request.signal?.aborted ? request.signal.reason : error),
    );
    outgoing.on('response', (incoming) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      incoming.on('data', (chunk: Buffer) => {
        if (kept + chunk.length <= MAX_RESPONSE_BYTES) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      incoming.on('error', reject);
      incoming.on('end', () => {
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          body: Buffer.concat(chunks),
        });
      });
    });

    const { body } = request;
    if (body === undefined || Buffer.isBuffer(body)) {
      outgoing.end(body);
      return;
    }
    // A failure of the file stream aborts the request, which rejects through its error event.
    pipeline(body(), outgoing).catch((error: unknown) => outgoing.destroy(error as Error));
  });
}

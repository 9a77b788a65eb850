import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';

/** How often and how patiently a failed registry request is sent again. */
export interface RetryPolicy {
  /** Tries in all, the first included; 1 turns retries off. */
  attempts: number;
  /** Wait before the second try, doubled before each later one. */
  initialDelayMs: number;
  /** Maximum wait between two tries, which also caps a `Retry-After` header. */
  maxDelayMs: number;
}

/** Five tries over about three seconds, or up to 30 s each when a `Retry-After` header requests it. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 30_000,
};

/** Outcome of one try: a result, or a failure that the next try may not have. */
export type Attempt<T> =
  | { done: true; value: T }
  | { done: false; reason: string; status?: number; retryAfterMs?: number; error?: unknown };

/** Socket errors that mean the connection dropped or never opened, so a new try may succeed. */
const TRANSIENT_SOCKET_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** Checks whether an error is a dropped or refused connection rather than a permanent failure. */
export function isTransientSocketError(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  const code = 'code' in error ? String(error.code) : '';
  return TRANSIENT_SOCKET_ERRORS.has(code) || error.message === 'socket hang up';
}

/** Checks whether an HTTP status is worth a retry: 429 Too Many Requests or a 5xx server error. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Reads a `Retry-After` header, given in seconds or as an HTTP date, as milliseconds to wait.
 * Returns undefined for a missing or unreadable header.
 */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') {
    return undefined;
  }
  if (/^\d+$/.test(header.trim())) {
    return Number(header.trim()) * 1000;
  }
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Runs `attempt` until it is done or the policy's tries are spent, waiting with exponential
 * backoff between tries, or as long as the registry's `Retry-After` requests, up to the policy's cap.
 * Returns the last failure when every try failed. An aborted `signal` ends the wait.
 */
export async function withRetries<T>(
  action: string,
  policy: RetryPolicy,
  attempt: () => Promise<Attempt<T>>,
  logger?: Logger,
  signal?: AbortSignal,
): Promise<Attempt<T>> {
  let outcome = await attempt();
  for (let tried = 1; !outcome.done && tried < policy.attempts; tried += 1) {
    const backoff = policy.initialDelayMs * 2 ** (tried - 1);
    const delayMs = Math.min(outcome.retryAfterMs ?? backoff, policy.maxDelayMs);
    logger?.debug('retrying a registry request', {
      action,
      reason: outcome.reason,
      attempt: tried + 1,
      delayMs,
    });
    await sleep(delayMs, undefined, signal === undefined ? {} : { signal }).catch(() => {
      throw signal?.reason;
    });
    outcome = await attempt();
  }
  return outcome;
}

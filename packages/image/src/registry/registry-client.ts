import type { Logger } from '../logger.js';
import { parseChallenges } from './auth-challenge.js';
import type { RegistryCredentials } from './credentials.js';
import { RegistryError } from './errors.js';
import {
  type HttpAgents,
  type HttpRequest,
  type HttpResponse,
  sendRequest,
} from './http-request.js';
import { authorizationFor, rejectedCredentials } from './registry-auth.js';
import { describeErrors, header } from './registry-response.js';
import {
  type Attempt,
  isTransientSocketError,
  isTransientStatus,
  parseRetryAfter,
  type RetryPolicy,
  withRetries,
} from './retry.js';
import { socketReason, wrapSocketError } from './socket-errors.js';

/** Address, credentials and request settings of one registry. */
export interface RegistryClientOptions {
  /** Registry host with an optional port, such as `127.0.0.1:5000`. */
  registry: string;
  /** Use HTTPS with verified certificates; false only for a registry the user marked insecure. */
  secure: boolean;
  credentials: RegistryCredentials | undefined;
  /** Token scopes to ask for, such as `repository:team/hello:pull,push`. */
  scopes: string[];
  retry: RetryPolicy;
  agents: HttpAgents;
  /** Aborts the request in flight, which then rejects with the signal's reason. */
  signal?: AbortSignal;
  logger?: Logger;
}

/** One request to a registry, by path such as `/v2/` or by an absolute URL from a `Location`. */
export interface RegistryRequest {
  method: string;
  target: string;
  headers?: Record<string, string>;
  body?: HttpRequest['body'];
  /** Description of the request for messages, such as `checking blob sha256:…`. */
  action: string;
  /**
   * Retry this request alone after a dropped connection, 429 or 5xx. False for the requests that
   * carry blob data, whose caller restarts the whole upload instead.
   */
  retry: boolean;
}

/** Most redirects followed for one request. */
const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Sends requests to one registry: it authenticates when challenged, follows redirects (to blob
 * storage, say) without the `Authorization` header, and retries what failed for a passing reason.
 */
export class RegistryClient {
  /** Scheme, host and port of the registry, such as `https://registry.example:5000`. */
  readonly baseUrl: URL;
  private readonly options: RegistryClientOptions;
  private authorization: string | undefined;

  constructor(options: RegistryClientOptions) {
    this.options = options;
    this.baseUrl = new URL(`${options.secure ? 'https' : 'http'}://${options.registry}`);
  }

  /**
   * Sends a request and returns the response, whatever its status, except that a 401 left after
   * authenticating raises `AUTHENTICATION`, and a dropped connection, 429 or 5xx left after every
   * retry raises `CONNECTION` or `REGISTRY`.
   */
  async send(request: RegistryRequest): Promise<HttpResponse> {
    const policy = request.retry ? this.options.retry : { ...this.options.retry, attempts: 1 };
    const outcome = await withRetries(
      request.action,
      policy,
      () => this.attempt(request),
      this.options.logger,
      this.options.signal,
    );
    if (outcome.done) {
      return outcome.value;
    }
    const code = outcome.error === undefined ? 'REGISTRY' : 'CONNECTION';
    throw new RegistryError(
      code,
      `${request.action} at ${this.options.registry}: ${outcome.reason}`,
      {
        cause: outcome.error,
      },
    );
  }

  private async attempt(request: RegistryRequest): Promise<Attempt<HttpResponse>> {
    let response: HttpResponse;
    try {
      response = await this.sendFollowing(request);
    } catch (error) {
      if (this.options.signal?.aborted) {
        throw this.options.signal.reason;
      }
      if (error instanceof RegistryError || !isTransientSocketError(error)) {
        throw wrapSocketError(error, request.action, this.baseUrl);
      }
      return { done: false, reason: socketReason(error), error };
    }

    if (isTransientStatus(response.status)) {
      const retryAfter = parseRetryAfter(header(response, 'retry-after'));
      return {
        done: false,
        reason: `the registry responded with ${response.status}${describeErrors(response)}`,
        status: response.status,
        ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
      };
    }
    return { done: true, value: response };
  }

  /** Sends one try of a request, following redirects and meeting one authentication challenge. */
  private async sendFollowing(request: RegistryRequest): Promise<HttpResponse> {
    let url = new URL(request.target, this.baseUrl);
    let method = request.method;
    let body = request.body;
    let redirected = false;
    let authenticated = false;

    for (let hops = 0; ; ) {
      const headers: Record<string, string> = { 'User-Agent': 'storepack', ...request.headers };
      // Redirect targets, such as signed blob storage URLs, must not receive the registry's secret.
      if (!redirected && url.origin === this.baseUrl.origin && this.authorization !== undefined) {
        headers.Authorization = this.authorization;
      }
      const { signal } = this.options;
      const response = await sendRequest(
        {
          method,
          url,
          headers,
          ...(body === undefined ? {} : { body }),
          ...(signal === undefined ? {} : { signal }),
        },
        this.options.agents,
      );

      const location = header(response, 'location');
      if (REDIRECT_STATUSES.has(response.status) && location !== undefined) {
        hops += 1;
        if (hops > MAX_REDIRECTS) {
          throw new RegistryError(
            'REGISTRY',
            `${request.action} at ${this.options.registry}: more than ${MAX_REDIRECTS} redirects`,
            { status: response.status },
          );
        }
        url = new URL(location, url);
        redirected = true;
        if (response.status === 303 && method !== 'HEAD') {
          method = 'GET';
          body = undefined;
        }
        continue;
      }

      if (response.status === 401 && !redirected) {
        if (authenticated) {
          throw rejectedCredentials(this.options.registry, this.options.credentials);
        }
        this.authorization = await this.authenticate(response);
        authenticated = true;
        continue;
      }
      return response;
    }
  }

  private async authenticate(response: HttpResponse): Promise<string> {
    const challenges = parseChallenges(header(response, 'www-authenticate') ?? '');
    this.options.logger?.debug('authenticating to the registry', {
      registry: this.options.registry,
      schemes: challenges.map((challenge) => challenge.scheme),
    });
    return authorizationFor(
      this.options.registry,
      challenges,
      this.options.scopes,
      this.options.credentials,
      (url, headers) => this.fetchToken(url, headers),
    );
  }

  private async fetchToken(url: URL, headers: Record<string, string>): Promise<HttpResponse> {
    if (url.protocol !== 'https:' && this.options.secure) {
      throw new RegistryError(
        'AUTHENTICATION',
        `authenticating to ${this.options.registry}: the token service ${url.origin} is not HTTPS, so credentials would travel in clear text`,
      );
    }
    const action = `requesting a token from ${url.origin}${url.pathname}`;
    const outcome = await withRetries(
      action,
      this.options.retry,
      async (): Promise<Attempt<HttpResponse>> => {
        try {
          const response = await sendRequest(
            { method: 'GET', url, headers: { 'User-Agent': 'storepack', ...headers } },
            this.options.agents,
          );
          return isTransientStatus(response.status)
            ? { done: false, reason: `the token service responded with ${response.status}` }
            : { done: true, value: response };
        } catch (error) {
          if (!isTransientSocketError(error)) throw error;
          return { done: false, reason: socketReason(error), error };
        }
      },
      this.options.logger,
    );
    if (!outcome.done) {
      throw new RegistryError('CONNECTION', `${action}: ${outcome.reason}`, {
        cause: outcome.error,
      });
    }
    return outcome.value;
  }
}

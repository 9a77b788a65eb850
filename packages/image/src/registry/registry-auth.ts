import type { AuthChallenge } from './auth-challenge.js';
import type { RegistryCredentials } from './credentials.js';
import { RegistryError } from './errors.js';
import type { HttpResponse } from './http-request.js';

/** Sends a GET to a token service; the client supplies retries and connection pools. */
export type TokenFetch = (url: URL, headers: Record<string, string>) => Promise<HttpResponse>;

/** Returns the value of an `Authorization: Basic` header for the credentials. */
export function basicAuthorization(credentials: RegistryCredentials): string {
  const pair = `${credentials.username}:${credentials.password}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/**
 * Returns the `Authorization` header value that answers a registry's challenge. For Basic it is
 * made from the credentials. For Bearer it is a token fetched from the challenge's `realm` for its
 * `service` and `scopes` (such as `repository:team/hello:pull,push`), with the credentials sent
 * to the token service when there are any. Raises `AUTHENTICATION` when credentials are missing or rejected.
 */
export async function authorizationFor(
  registry: string,
  challenges: AuthChallenge[],
  scopes: string[],
  credentials: RegistryCredentials | undefined,
  fetchToken: TokenFetch,
): Promise<string> {
  const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
  if (bearer !== undefined) {
    return `Bearer ${await requestToken(registry, bearer, scopes, credentials, fetchToken)}`;
  }
  if (challenges.some((challenge) => challenge.scheme === 'basic')) {
    if (credentials === undefined) {
      throw missingCredentials(registry);
    }
    return basicAuthorization(credentials);
  }
  const schemes = challenges.map((challenge) => challenge.scheme).join(', ') || 'none';
  throw new RegistryError(
    'AUTHENTICATION',
    `authenticating to ${registry}: unsupported authentication scheme: expected Basic or Bearer, found ${schemes}`,
    { status: 401 },
  );
}

/** Builds the error for a registry that demands credentials the auth files do not have. */
export function missingCredentials(registry: string): RegistryError {
  return new RegistryError(
    'AUTHENTICATION',
    `authenticating to ${registry}: the registry requires credentials and none were found: add an entry for ${registry} to an auth file such as $REGISTRY_AUTH_FILE`,
    { status: 401 },
  );
}

/** Builds the error for credentials that the registry or its token service refused. */
export function rejectedCredentials(
  registry: string,
  credentials: RegistryCredentials | undefined,
): RegistryError {
  if (credentials === undefined) {
    return missingCredentials(registry);
  }
  return new RegistryError(
    'AUTHENTICATION',
    `authenticating to ${registry}: the registry rejected the credentials of user "${credentials.username}" from ${credentials.source}`,
    { status: 401 },
  );
}

async function requestToken(
  registry: string,
  challenge: AuthChallenge,
  scopes: string[],
  credentials: RegistryCredentials | undefined,
  fetchToken: TokenFetch,
): Promise<string> {
  const realm = challenge.params.realm;
  let url: URL;
  try {
    url = new URL(realm ?? '');
  } catch {
    throw new RegistryError(
      'AUTHENTICATION',
      `authenticating to ${registry}: the Bearer challenge has no valid realm URL: found ${JSON.stringify(realm ?? null)}`,
      { status: 401 },
    );
  }

  if (challenge.params.service !== undefined) {
    url.searchParams.set('service', challenge.params.service);
  }
  const wanted = new Set([...scopes, ...(challenge.params.scope?.split(' ') ?? [])]);
  for (const scope of wanted) {
    if (scope !== '') url.searchParams.append('scope', scope);
  }
  const headers: Record<string, string> =
    credentials === undefined ? {} : { Authorization: basicAuthorization(credentials) };

  const response = await fetchToken(url, headers);
  if (response.status === 401 || response.status === 403) {
    throw rejectedCredentials(registry, credentials);
  }
  const token = parseToken(response);
  if (token === undefined) {
    throw new RegistryError(
      'AUTHENTICATION',
      `authenticating to ${registry}: the token service at ${url.origin}${url.pathname} responded with ${response.status} and no token`,
      { status: response.status },
    );
  }
  return token;
}

/** Reads `token`, or the OAuth 2 name `access_token`, from a token service's JSON response. */
function parseToken(response: HttpResponse): string | undefined {
  if (response.status !== 200) {
    return undefined;
  }
  try {
    const document = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
    const token = document.token ?? document.access_token;
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}

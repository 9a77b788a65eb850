import { RegistryError } from './errors.js';

/** Describes a socket failure in one line, such as `connect ECONNREFUSED 127.0.0.1:5000`. */
export function socketReason(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : String(error);
  // OpenSSL's messages run over lines and name its source files; the short reason is enough.
  const tls = /SSL routines:[^:]*:([^:\n]+)/.exec(message)?.[1];
  if (tls !== undefined) {
    return `TLS failed: ${tls} (${code})`;
  }
  const firstLine = message.split('\n')[0] ?? '';
  return firstLine.includes(code) || code === '' ? firstLine : `${firstLine} (${code})`;
}

/** Turns a TLS or other socket failure into a `CONNECTION` error, hinting at plain HTTP registries. */
export function wrapSocketError(error: unknown, action: string, baseUrl: URL): unknown {
  if (error instanceof RegistryError || !(error instanceof Error)) {
    return error;
  }
  const code = 'code' in error ? String(error.code) : '';
  const tls = /SSL|TLS|CERT|EPROTO/i.test(`${code} ${error.message}`);
  const hint =
    tls && baseUrl.protocol === 'https:'
      ? `: if ${baseUrl.host} serves plain HTTP, list it as an insecure registry (storepack push --insecure-registry ${baseUrl.host})`
      : '';
  return new RegistryError(
    'CONNECTION',
    `${action} at ${baseUrl.host}: ${socketReason(error)}${hint}`,
    { cause: error },
  );
}

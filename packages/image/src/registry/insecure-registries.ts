import { RegistryError } from './errors.js';

/** `HOST` or `HOST:PORT`, with a bracketed IPv6 address as the host. */
const HOST_AND_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * Checks whether `registry` (`host[:port]`) may be reached over plain HTTP: it is listed with its
 * port, or its host is listed without one. Raises `INVALID_OPTION` for an entry that is not
 * `HOST[:PORT]`, such as one with a scheme or a path.
 */
export function isInsecureRegistry(
  registry: string,
  insecureRegistries: readonly string[],
): boolean {
  const host = registry.replace(/:\d+$/, '');
  for (const entry of insecureRegistries) {
    if (!HOST_AND_PORT.test(entry)) {
      throw new RegistryError(
        'INVALID_OPTION',
        `invalid insecure registry "${entry}": expected HOST or HOST:PORT, such as 127.0.0.1:5000`,
      );
    }
  }
  return insecureRegistries.some(
    (entry) =>
      entry.toLowerCase() === registry.toLowerCase() || entry.toLowerCase() === host.toLowerCase(),
  );
}

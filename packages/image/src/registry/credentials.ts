import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { RegistryError } from './errors.js';

/** A user name and password for one registry, with the file they were read from. */
export interface RegistryCredentials {
  username: string;
  password: string;
  /** The auth file the credentials came from, for messages; never the secret itself. */
  source: string;
}

/**
 * Lists the auth files searched for credentials, in order: `$REGISTRY_AUTH_FILE`,
 * `$XDG_RUNTIME_DIR/containers/auth.json`, `$XDG_CONFIG_HOME/containers/auth.json` (by default
 * `~/.config/containers/auth.json`) and `~/.docker/config.json`, as podman, skopeo and buildah do.
 */
export function authFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME ?? os.homedir();
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) {
    files.push(env.REGISTRY_AUTH_FILE);
  }
  if (env.XDG_RUNTIME_DIR) {
    files.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  }
  files.push(
    path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'containers', 'auth.json'),
  );
  files.push(path.join(home, '.docker', 'config.json'));
  return files;
}

/**
 * Finds credentials for `repository` on `registry` in the `auths` map of the first auth file that
 * has an entry for it. A key may name the host (`127.0.0.1:5000`, `https://127.0.0.1:5000/v2/`) or
 * a repository namespace on it (`127.0.0.1:5000/team`), and the longest match wins. Missing files
 * are skipped; a file that is not valid JSON, or an entry whose `auth` is not base64 of
 * `user:password`, raises `CREDENTIALS`.
 */
export async function findCredentials(
  registry: string,
  repository: string,
  options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {},
): Promise<RegistryCredentials | undefined> {
  const candidates = namespaceKeys(registry, repository);

  for (const file of authFilePaths(options.env)) {
    const auths = await readAuths(file);
    if (auths === undefined) {
      continue;
    }
    for (const key of candidates) {
      const entry = auths.entries.get(key);
      if (entry !== undefined) {
        return decodeEntry(entry, key, file);
      }
    }
    // NOTE: credential helpers (`credHelpers`, `credsStore`) are not run, so a registry whose
    // credentials live only in a helper is reached without credentials.
    if (auths.helpers.has(normaliseKey(registry)) || auths.defaultHelper) {
      options.logger?.warn('credential helpers are not supported, skipping them', {
        file,
        registry,
      });
    }
  }
  return undefined;
}

interface AuthFile {
  entries: Map<string, unknown>;
  helpers: Set<string>;
  defaultHelper: boolean;
}

async function readAuths(file: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return undefined;
    }
    throw new RegistryError('CREDENTIALS', `reading auth file ${file}: ${String(code ?? error)}`, {
      cause: error,
    });
  }

  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // The parser's message can quote the file's text, so only the position-free fact is given.
    throw new RegistryError('CREDENTIALS', `reading auth file ${file}: not valid JSON`);
  }
  const record = asObject(document);
  const entries = new Map<string, unknown>();
  for (const [key, entry] of Object.entries(asObject(record?.auths) ?? {})) {
    entries.set(normaliseKey(key), entry);
  }
  const helpers = new Set(Object.keys(asObject(record?.credHelpers) ?? {}).map(normaliseKey));
  return { entries, helpers, defaultHelper: typeof record?.credsStore === 'string' };
}

function decodeEntry(entry: unknown, key: string, file: string): RegistryCredentials {
  const auth = asObject(entry)?.auth;
  const decoded = typeof auth === 'string' ? Buffer.from(auth, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new RegistryError(
      'CREDENTIALS',
      `reading auth file ${file}: the entry for ${key} has no "auth" field with base64 of user:password`,
    );
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: file };
}

/** Returns the keys that may hold credentials for a repository, most specific first. */
function namespaceKeys(registry: string, repository: string): string[] {
  const host = normaliseKey(registry);
  const parts = repository.split('/');
  const keys: string[] = [];
  for (let length = parts.length; length > 0; length -= 1) {
    keys.push(`${host}/${parts.slice(0, length).join('/')}`);
  }
  keys.push(host);
  return keys;
}

/** Reduces an `auths` key to `host[:port][/namespace]`: no scheme, no `/v1/` or `/v2/` suffix. */
function normaliseKey(key: string): string {
  const bare = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/v[12]\/?$/, '')
    .replace(/\/+$/, '');
  return bare.replace(/^(index|registry-1)\.docker\.io(?=$|\/)/, 'docker.io');
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

import { type Digest, isDigest } from './digest.js';
import { ImageSpecError, quoteShort } from './errors.js';

/** Image reference split into the parts of the distribution reference grammar. */
export interface ImageReference {
  /** Registry host with an optional port, such as `docker.io`, `localhost:5000` or `[::1]:5000`. */
  registry: string;
  /** Repository path inside the registry, such as `library/ubuntu` or `team/hello`. */
  repository: string;
  /** Tag, such as `latest`, absent in a digest-only reference. */
  tag?: string;
  /** Manifest digest that pins the reference to exact content. */
  digest?: Digest;
}

/** Registry that names without a registry part resolve to, as the Docker CLI does. */
export const DEFAULT_REGISTRY = 'docker.io';

/** Repository namespace that single-component names on Docker Hub live in. */
export const OFFICIAL_NAMESPACE = 'library';

/** Maximum length of a repository name including its registry part. */
const NAME_MAX_LENGTH = 255;

/** Tag: a word character, then up to 127 word characters, dots or dashes. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Path component: lower-case runs joined by ".", "_", "__" or one or more dashes. */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Host name or IPv4 address, with an optional port. */
const DOMAIN_NAME_HOST =
  /^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*(?::[0-9]+)?$/;

/** IPv6 address in brackets, with an optional port. */
const IPV6_HOST = /^\[[A-Fa-f0-9:]+\](?::[0-9]+)?$/;

/** Text that the Docker CLI reads as an image ID rather than a repository name. */
const IMAGE_ID = /^[a-f0-9]{64}$/;

/**
 * Parses an image reference such as `ubuntu`, `localhost:5000/team/app:1` or `app@sha256:…`,
 * normalising as the Docker CLI does: `ubuntu` becomes `docker.io/library/ubuntu:latest`.
 * Raises `INVALID_REFERENCE` naming the grammar rule that the text breaks.
 */
export function parseReference(text: string): ImageReference {
  const fail = (rule: string) => invalidReference(text, rule);
  if (text === '') {
    throw fail('reference is empty');
  }
  if (IMAGE_ID.test(text)) {
    throw fail('a bare 64-digit hex string is an image ID, not a repository name');
  }

  // The digest follows the first "@", and the tag follows the last ":" after the last "/".
  const at = text.indexOf('@');
  let digest: Digest | undefined;
  if (at >= 0) {
    const digestText = text.slice(at + 1);
    if (!isDigest(digestText)) {
      throw fail(
        `digest ${quoteShort(digestText, 20)} must be "sha256:" followed by 64 lower-case hex digits`,
      );
    }
    digest = digestText;
  }

  const { name, tag } = splitTag(at >= 0 ? text.slice(0, at) : text, fail);
  const { registry, path } = splitName(name, fail);

  const reference: ImageReference = { registry: registry ?? DEFAULT_REGISTRY, repository: path };
  if (reference.registry === 'index.docker.io') {
    reference.registry = DEFAULT_REGISTRY;
  }
  if (reference.registry === DEFAULT_REGISTRY && !path.includes('/')) {
    reference.repository = `${OFFICIAL_NAMESPACE}/${path}`;
  }

  if (tag !== undefined) {
    reference.tag = tag;
  } else if (digest === undefined) {
    reference.tag = 'latest';
  }
  if (digest !== undefined) {
    reference.digest = digest;
  }
  return reference;
}

/** Formats a reference in full, such as `docker.io/library/ubuntu:latest`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${formatTagAndDigest(ref)}`;
}

/** Formats a reference the short way the Docker CLI shows it, such as `ubuntu:latest`. */
export function formatFamiliarReference(ref: ImageReference): string {
  if (ref.registry !== DEFAULT_REGISTRY) {
    return formatReference(ref);
  }

  const official = `${OFFICIAL_NAMESPACE}/`;
  const unqualified = ref.repository.slice(official.length);
  const isOfficial = ref.repository.startsWith(official) && !unqualified.includes('/');
  return `${isOfficial ? unqualified : ref.repository}${formatTagAndDigest(ref)}`;
}

function formatTagAndDigest(ref: ImageReference): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return tag + digest;
}

/**
 * Parses a `RepoTags` entry of a docker-archive manifest, such as `hello:2.12` or
 * `registry:5000/team/hello:1`. The repository is kept as written, with no registry or
 * `library/` added, and a missing tag means `latest`. Raises `INVALID_REFERENCE`.
 */
export function parseRepoTag(text: string): { repository: string; tag: string } {
  const fail = (rule: string) => invalidReference(text, rule);
  if (text === '') {
    throw fail('reference is empty');
  }
  if (text.includes('@')) {
    throw fail('a RepoTags entry must not contain a digest');
  }

  const { name, tag } = splitTag(text, fail);
  splitName(name, fail);
  return { repository: name, tag: tag ?? 'latest' };
}

type Fail = (rule: string) => ImageSpecError;

/** Splits `name[:tag]` and checks the tag. A ":" before the last "/" belongs to a registry port. */
function splitTag(text: string, fail: Fail): { name: string; tag?: string } {
  const colon = text.lastIndexOf(':');
  if (colon < 0 || colon < text.lastIndexOf('/')) {
    return { name: text };
  }

  const tag = text.slice(colon + 1);
  if (tag === '') {
    throw fail('tag is empty after ":"');
  }
  if (tag.length > 128) {
    throw fail(`tag must be at most 128 characters, found ${tag.length}`);
  }
  if (!TAG.test(tag)) {
    throw fail(
      `tag ${quoteShort(tag, 40)} must contain only letters, digits, "_", "." and "-", and must not start with "." or "-"`,
    );
  }
  return { name: text.slice(0, colon), tag };
}

/** Splits a name into its optional registry and its path, checking both against the grammar. */
function splitName(name: string, fail: Fail): { registry?: string; path: string } {
  if (name === '') {
    throw fail('repository name is empty');
  }
  if (name.length > NAME_MAX_LENGTH) {
    throw fail(
      `repository name must be at most ${NAME_MAX_LENGTH} characters, found ${name.length}`,
    );
  }

  // The first component is a registry only when it looks like a host: it has a "." or a ":",
  // is "localhost", or has upper-case letters, which a path component cannot have.
  const slash = name.indexOf('/');
  const first = name.slice(0, Math.max(slash, 0));
  const hasRegistry =
    slash >= 0 &&
    (first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase());
  const registry = hasRegistry ? first : undefined;
  const path = hasRegistry ? name.slice(slash + 1) : name;

  if (registry !== undefined && !DOMAIN_NAME_HOST.test(registry) && !IPV6_HOST.test(registry)) {
    throw fail(
      `registry ${quoteShort(registry, 40)} must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional numeric port`,
    );
  }
  checkPath(path, fail);
  return registry === undefined ? { path } : { registry, path };
}

/** Checks a repository path: "/"-separated lower-case components. */
function checkPath(path: string, fail: Fail): void {
  if (path === '') {
    throw fail('repository path is empty after the registry');
  }

  for (const component of path.split('/')) {
    if (component === '') {
      throw fail(
        'repository path must not contain an empty component (a leading, trailing or doubled "/")',
      );
    }
    if (PATH_COMPONENT.test(component)) {
      continue;
    }
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      throw fail('repository name must be lowercase');
    }
    throw fail(
      `path component ${quoteShort(component, 40)} must be lower-case letters and digits, separated by ".", "_", "__" or dashes`,
    );
  }
}

function invalidReference(text: string, rule: string): ImageSpecError {
  return new ImageSpecError('INVALID_REFERENCE', `invalid reference ${quoteShort(text)}: ${rule}`);
}

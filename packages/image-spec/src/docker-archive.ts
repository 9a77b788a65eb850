import { ImageSpecError, quoteShort } from './errors.js';
import { parseRepoTag } from './reference.js';

/** One image in the `manifest.json` of a `docker save` archive. */
export interface DockerArchiveManifestEntry {
  /** Path of the image config inside the archive, such as `<hex>.json` or `blobs/sha256/<hex>`. */
  Config: string;
  /** Tags of the image, such as `hello:2.12`, null or empty for an untagged image. */
  RepoTags: string[] | null;
  /** Paths of the layer tars inside the archive, base layer first. */
  Layers: string[];
}

/** The `manifest.json` of a `docker save` archive: one entry per image. */
export type DockerArchiveManifest = DockerArchiveManifestEntry[];

/** The legacy `repositories` file: repository name, then tag, then the ID of the top layer. */
export type DockerRepositories = Record<string, Record<string, string>>;

/** The legacy per-layer `json` file stored as `<layer id>/json` in a `docker save` archive. */
export interface LegacyLayerJson {
  /** Layer ID: 64 lower-case hex digits. */
  id: string;
  /** ID of the layer below this one, absent for the base layer. */
  parent?: string;
  /** Creation time in RFC 3339. */
  created: string;
  /** Container config of the legacy format, null or empty for layers made without a container. */
  container_config: Record<string, unknown> | null;
  /** Operating system, given on the top layer only. */
  os?: string;
  /** CPU architecture, given on the top layer only. */
  architecture?: string;
  /** CPU variant, given on the top layer only. */
  variant?: string;
}

/** Contents of the `<layer id>/VERSION` file of a `docker save` archive. */
export const LEGACY_LAYER_VERSION = '1.0';

/** Name of the archive member that lists the images. */
export const DOCKER_ARCHIVE_MANIFEST_PATH = 'manifest.json';

/** Name of the archive member with the legacy repository to layer ID map. */
export const DOCKER_ARCHIVE_REPOSITORIES_PATH = 'repositories';

const LAYER_ID = /^[a-f0-9]{64}$/;

/** Checks whether `text` is a legacy layer ID: 64 lower-case hex digits, no algorithm prefix. */
export function isLegacyLayerId(text: string): boolean {
  return LAYER_ID.test(text);
}

/**
 * Builds the legacy `repositories` file that maps every tag in `repoTags` to `topLayerId`.
 * Raises `INVALID_REFERENCE` for a malformed tag and `INVALID_LAYER_ID` for a malformed ID.
 */
export function createRepositories(repoTags: string[], topLayerId: string): DockerRepositories {
  if (!isLegacyLayerId(topLayerId)) {
    throw new ImageSpecError(
      'INVALID_LAYER_ID',
      `creating repositories file: invalid top layer ID ${quoteShort(topLayerId)}, expected 64 lower-case hex digits without "sha256:"`,
    );
  }

  // Maps and Object.fromEntries keep names such as "constructor" or "__proto__" as plain keys.
  const tagsByRepository = new Map<string, Map<string, string>>();
  for (const repoTag of repoTags) {
    const { repository, tag } = parseRepoTag(repoTag);
    const tags = tagsByRepository.get(repository) ?? new Map<string, string>();
    tags.set(tag, topLayerId);
    tagsByRepository.set(repository, tags);
  }

  return Object.fromEntries(
    [...tagsByRepository].map(([repository, tags]) => [repository, Object.fromEntries(tags)]),
  );
}

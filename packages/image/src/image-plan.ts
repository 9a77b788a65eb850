import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Closure,
  parseStorePath,
  type ResolveClosureOptions,
  resolveClosure,
} from '@storepack/closure';
import {
  type ContainerConfig,
  hostSystem,
  type LayerCompression,
  type Platform,
  parseRepoTag,
  platformFromSystem,
} from '@storepack/image-spec';
import {
  DEFAULT_MAX_LAYERS,
  DEFAULT_PLANNER,
  defaultCacheDir,
  type PlannerName,
} from '@storepack/layers';
import { createContainerConfig } from './container-config.js';
import { defaultRepoTag } from './default-names.js';
import { ImageError } from './errors.js';
import { followToStorePath } from './follow-to-store-path.js';
import type { ImageLayer } from './image-layer.js';
import { makeImageLayers } from './image-layers.js';
import type { ContainerSettings, SymlinkSpec } from './image-settings.js';
import { resolveImageSymlinks } from './image-symlinks.js';
import { layerSizeHints, planLayerSources } from './layer-sources.js';
import type { Logger } from './logger.js';

/** The creation time the original gives an image when `SOURCE_DATE_EPOCH` is not set. */
export const DEFAULT_CREATED = new Date('1970-01-01T00:00:01Z');

/** Contents and description of an image, as a caller requests them. */
export interface ImageOptions {
  /** The items the image is made of, with their closure; the first is the image's main item. */
  paths: string[];
  /** The store folder, e.g. `/gnu/store`; taken from the first path when not given. */
  storeDir?: string;
  /** Read items from `root + storePath`, as Nix reads a `local?root=DIR` store. */
  root?: string;
  /**
   * Source of the closure: the store database, the store's own command, a reference scan, a
   * closure file's path, or `auto` for the first of the three sources that works.
   */
  closureFrom?: ResolveClosureOptions['from'];
  /** The store database to read instead of the one that belongs to the store folder. */
  database?: string;
  /** The Guix or Nix system name of the image's platform, e.g. `aarch64-linux`; the host's by default. */
  system?: string;
  /** `name:tag` references for the archive's `RepoTags`; `<name>:<hash part>` of the first path by default. */
  tags?: string[];
  /** The image's creation time, also every file's modification time. */
  created?: Date;
  /** Entry point, environment and the other settings of the image's config. */
  container?: ContainerSettings;
  /** Symlinks in the image; the original's `/bin → <first item>/bin` when not given. */
  symlinks?: SymlinkSpec[];
  /** Folders outside the store, such as `/tmp` with mode `0o1777`. */
  extraDirectories?: { path: string; mode: number }[];
  /** Annotations of an OCI manifest, such as `org.opencontainers.image.source`. */
  annotations?: Record<string, string>;
  /** Layer planner that splits the closure: `single`, `popularity` or `churn` (the default). */
  planner?: PlannerName;
  /** Most layers the image may have; 100 by default, since runtimes fail past about 125. */
  maxLayers?: number;
  /** Compression of the layer blobs; none by default. */
  compression?: LayerCompression;
  /**
   * The layer cache folder, or false for none. By default compressed layers are cached under the
   * user's cache folder and uncompressed ones stream from the store without a cache.
   */
  cache?: string | false;
  logger?: Logger;
}

/** An image whose closure, platform, tags, settings and layers are settled, ready for a writer. */
export interface ImagePlan {
  closure: Closure;
  platform: Platform;
  created: Date;
  repoTags: string[];
  /** The `config` member of the image config. */
  container: ContainerConfig;
  annotations: Record<string, string>;
  layers: ImageLayer[];
  /** Removes what the plan keeps on disk for its layers, such as compressed blobs built without a cache. */
  cleanup(): Promise<void>;
}

/**
 * Checks the options, finds the closure of the paths, splits it into layers with the image's
 * symlinks and extra folders, and prepares them: compressed layers are built into the cache.
 * `signal` stops that building.
 */
export async function planImage(options: ImageOptions, signal?: AbortSignal): Promise<ImagePlan> {
  if (options.paths.length === 0) {
    throw new ImageError('INVALID_OPTION', 'no store path given: expected at least one');
  }
  const platform = platformFromSystem(options.system ?? hostSystem());
  const created = options.created ?? DEFAULT_CREATED;
  if (Number.isNaN(created.getTime())) {
    throw new ImageError('INVALID_OPTION', 'invalid creation time: not a date');
  }
  // `hello` is written `hello:latest`, as docker and podman read a RepoTags entry only with a tag.
  const explicitTags = [
    ...new Set(
      (options.tags ?? []).map((text) => {
        const { repository, tag } = parseRepoTag(text);
        return `${repository}:${tag}`;
      }),
    ),
  ];

  const paths = await Promise.all(options.paths.map((path) => followToStorePath(path)));
  const closure = await resolveClosure(paths, {
    from: options.closureFrom ?? 'auto',
    ...(options.database === undefined ? {} : { db: options.database }),
    ...(options.storeDir === undefined ? {} : { storeDir: options.storeDir }),
    ...(options.root === undefined ? {} : { root: options.root }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  options.logger?.debug('closure resolved', {
    items: closure.items.length,
    source: closure.source,
  });

  // The items in the order given: the first is the main item, whose name and bin/ the image takes.
  const items = [...new Set(paths.map((path) => parseStorePath(path, closure.storeDir).path))];
  const mainItem = items[0] as string;
  const closureItems = new Set(closure.items.map((item) => item.path));

  const directories = sortParentsFirst(options.extraDirectories ?? []);
  const symlinks = await resolveImageSymlinks(
    options.symlinks,
    mainItem,
    closureItems,
    closure.storeDir,
    options.root,
  );
  // The original's /bin link gives way to a /bin folder the caller asked for.
  const keptSymlinks =
    options.symlinks === undefined
      ? symlinks.filter((link) => !directories.some((directory) => directory.path === link.path))
      : symlinks;
  checkOutsideStore(
    [...directories, ...keptSymlinks].map(({ path }) => path),
    closure.storeDir,
  );

  const container = await createContainerConfig(options.container ?? {}, items, options.root);
  const sources = planLayerSources(closure, {
    planner: options.planner ?? DEFAULT_PLANNER,
    maxLayers: options.maxLayers ?? DEFAULT_MAX_LAYERS,
    symlinks: keptSymlinks,
    directories,
    mtime: Math.floor(created.getTime() / 1000),
    root: options.root,
  });
  const compression = options.compression ?? 'none';
  // Compressed blobs are built ahead, so without a cache they go to a folder removed after use.
  const temporary =
    options.cache === false && compression !== 'none'
      ? await mkdtemp(join(tmpdir(), 'storepack-layers-'))
      : undefined;
  const cacheDir =
    temporary ??
    (options.cache === false
      ? undefined
      : (options.cache ?? (compression === 'none' ? undefined : defaultCacheDir())));
  const layers = await makeImageLayers(sources, {
    compression,
    cacheDir,
    sizeHints: layerSizeHints(closure, sources),
    ...(signal ? { signal } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  }).catch(async (error: unknown) => {
    if (temporary !== undefined) {
      await rm(temporary, { recursive: true, force: true });
    }
    throw error;
  });

  return {
    closure,
    platform,
    created,
    repoTags: explicitTags.length > 0 ? explicitTags : [defaultRepoTag(mainItem)],
    container,
    annotations: options.annotations ?? {},
    layers,
    cleanup: async () => {
      if (temporary !== undefined) {
        await rm(temporary, { recursive: true, force: true });
      }
    },
  };
}

/** Orders folders so that each comes after the folders above it, whatever order they were given in. */
function sortParentsFirst<T extends { path: string }>(directories: T[]): T[] {
  const depth = (path: string) => path.split('/').length;
  return [...directories].sort((left, right) => depth(left.path) - depth(right.path));
}

/** Rejects extra folders and symlinks in the store folder, which holds only store items. */
function checkOutsideStore(paths: string[], storeDir: string): void {
  for (const path of paths) {
    if (
      path === storeDir ||
      path.startsWith(`${storeDir}/`) ||
      `${storeDir}/`.startsWith(`${path}/`)
    ) {
      throw new ImageError(
        'INVALID_OPTION',
        `invalid path ${path} in the image: it is or contains the store folder ${storeDir}, which holds only store items`,
      );
    }
  }
}

import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Closure, parseStorePath, resolveClosure } from '@storepack/closure';
import { hostSystem, type Platform, parseRepoTag, platformFromSystem } from '@storepack/image-spec';
import {
  type LayerSource,
  type LayerSymlink,
  type PreparedLayer,
  prepareLayer,
} from '@storepack/layers';
import { defaultRepoTag } from './default-names.js';
import { ImageError } from './errors.js';
import { followToStorePath } from './follow-to-store-path.js';
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
  /** Source of the closure: the store database, a reference scan, or the first that works. */
  closureFrom?: 'auto' | 'db' | 'scan';
  /** The store database to read instead of the one that belongs to the store folder. */
  database?: string;
  /** The Guix or Nix system name of the image's platform, e.g. `aarch64-linux`; the host's by default. */
  system?: string;
  /** `name:tag` references for the archive's `RepoTags`; `<name>:<hash part>` of the first path by default. */
  tags?: string[];
  /** The image's creation time, also every file's modification time. */
  created?: Date;
  logger?: Logger;
}

/** One layer of a planned image: its source and its prepared, not yet streamed, tar. */
export interface PlannedLayer {
  source: LayerSource;
  layer: PreparedLayer;
}

/** An image whose closure, platform, tags and layers are settled, ready for a writer. */
export interface ImagePlan {
  closure: Closure;
  platform: Platform;
  created: Date;
  repoTags: string[];
  layers: PlannedLayer[];
}

/**
 * Checks the options, finds the closure of the paths and prepares one layer that contains every item
 * of it, with a `/bin` symlink into the first item when that item has a `bin/`.
 */
export async function planImage(options: ImageOptions): Promise<ImagePlan> {
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
  const mainItem = parseStorePath(paths[0] as string, closure.storeDir).path;
  options.logger?.debug('closure resolved', {
    items: closure.items.length,
    source: closure.source,
  });

  const source: LayerSource = {
    storeDir: closure.storeDir,
    storePaths: closure.items.map((item) => item.path),
    symlinks: await rootSymlinks(mainItem, options.root),
    mtime: Math.floor(created.getTime() / 1000),
    ...(options.root === undefined ? {} : { root: options.root }),
  };
  const layer = await prepareLayer(source, options.logger ? { logger: options.logger } : undefined);

  return {
    closure,
    platform,
    created,
    repoTags: explicitTags.length > 0 ? explicitTags : [defaultRepoTag(mainItem)],
    layers: [{ source, layer }],
  };
}

/** Returns the original's `/bin → <item>/bin` link when the item has a `bin/`, else nothing. */
async function rootSymlinks(item: string, root: string | undefined): Promise<LayerSymlink[]> {
  const bin = await lstat(join(root ?? '/', item, 'bin')).catch(() => undefined);
  if (bin === undefined || !(bin.isDirectory() || bin.isSymbolicLink())) {
    return [];
  }
  return [{ path: '/bin', target: `${item}/bin` }];
}

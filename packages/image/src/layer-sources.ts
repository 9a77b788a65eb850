import type { Closure } from '@storepack/closure';
import {
  type LayerDirectory,
  type LayerSource,
  type LayerSymlink,
  type PlannerName,
  planLayers,
} from '@storepack/layers';

/** Settings of the layer split, and the symlinks and folders the image adds outside the store. */
export interface LayerSourceOptions {
  planner: PlannerName;
  maxLayers: number;
  symlinks: LayerSymlink[];
  directories: LayerDirectory[];
  /** Modification time of every entry, in seconds since the epoch. */
  mtime: number;
  root: string | undefined;
}

/**
 * Splits the closure into layer sources with the planner. With `single`, the one layer also
 * contains the symlinks and extra folders, as the original does. With any other planner they go
 * in a last layer of their own. Changing them then leaves the store layers and their cached
 * blobs as they were. That last layer counts towards `maxLayers`.
 */
export function planLayerSources(closure: Closure, options: LayerSourceOptions): LayerSource[] {
  const common = {
    storeDir: closure.storeDir,
    mtime: options.mtime,
    ...(options.root === undefined ? {} : { root: options.root }),
  };
  const extras = options.symlinks.length > 0 || options.directories.length > 0;

  if (options.planner === 'single') {
    const storePaths = closure.items.map((item) => item.path);
    return [
      { ...common, storePaths, symlinks: options.symlinks, directories: options.directories },
    ];
  }

  const storeLayerLimit = extras ? Math.max(1, options.maxLayers - 1) : options.maxLayers;
  const plan = planLayers(
    { items: closure.items, roots: closure.roots },
    { planner: options.planner, maxLayers: storeLayerLimit },
  );
  const sources: LayerSource[] = plan.map((storePaths) => ({ ...common, storePaths }));
  if (extras) {
    sources.push({
      ...common,
      storePaths: [],
      symlinks: options.symlinks,
      directories: options.directories,
    });
  }
  return sources;
}

/**
 * Returns the expected size of each layer of `sources`: the sum of the NAR sizes of its items.
 * An item whose size is unknown, or not a finite number ≥ 0 (a damaged store database), counts as
 * 0, since the sizes only decide which layers the builder starts first.
 */
export function layerSizeHints(closure: Closure, sources: readonly LayerSource[]): number[] {
  const narSizes = new Map(
    closure.items.map((item) => {
      const size = item.narSize;
      return [item.path, typeof size === 'number' && Number.isFinite(size) && size > 0 ? size : 0];
    }),
  );
  return sources.map((source) => {
    const sum = source.storePaths.reduce(
      (total, storePath) => total + (narSizes.get(storePath) ?? 0),
      0,
    );
    // Sizes near the largest double, which only a damaged database holds, can add up to Infinity.
    return Number.isFinite(sum) ? sum : Number.MAX_VALUE;
  });
}

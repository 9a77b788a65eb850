import type { IndexedGraph } from './closure-graph.js';

/**
 * Ranks the items by how many other items of the closure refer to them, most first and ties by
 * path, as Nix's `referencesByPopularity` does. The first `maxLayers - 1` items get a layer each and
 * the rest share the last layer.
 */
export function planPopularityLayers(graph: IndexedGraph, maxLayers: number): number[][] {
  const ranked = graph.paths
    .map((_path, index) => index)
    .sort((a, b) => {
      const byCount =
        (graph.referrers[b] as number[]).length - (graph.referrers[a] as number[]).length;
      return byCount !== 0 ? byCount : a - b;
    });

  if (ranked.length <= maxLayers) {
    return ranked.map((index) => [index]);
  }
  const own = ranked.slice(0, maxLayers - 1).map((index) => [index]);
  const rest = ranked.slice(maxLayers - 1).sort((a, b) => a - b);
  return [...own, rest];
}

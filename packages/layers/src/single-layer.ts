import type { IndexedGraph } from './closure-graph.js';

/** Puts every item in one layer, as Guix's original image builder does. */
export function planSingleLayer(graph: IndexedGraph): number[][] {
  return graph.paths.length === 0 ? [] : [graph.paths.map((_path, index) => index)];
}

import { planChurnLayers } from './churn-layers.js';
import { type ClosureGraph, type IndexedGraph, indexGraph } from './closure-graph.js';
import { LayerError } from './errors.js';
import { planPopularityLayers } from './popularity-layers.js';
import { planSingleLayer } from './single-layer.js';

/** Layers of store paths in image order, each layer's paths sorted; every item is in one layer. */
export type LayerPlan = string[][];

/** Names of the layer planners. */
export const PLANNER_NAMES = ['single', 'popularity', 'churn'] as const;

/** A layer planner's name: `single`, `popularity` or `churn`. */
export type PlannerName = (typeof PLANNER_NAMES)[number];

/** The planner that `planLayers` uses when none is named: it re-uploads the fewest bytes after a change. */
export const DEFAULT_PLANNER: PlannerName = 'churn';

/** The layer limit when none is given, as in Nix's `streamLayeredImage`. */
export const DEFAULT_MAX_LAYERS = 100;

/** Settings for `planLayers`. */
export interface PlanLayersOptions {
  /** The planner, {@link DEFAULT_PLANNER} by default. */
  planner?: PlannerName;
  /** Most layers the plan may have, a whole number ≥ 1; 100 by default. */
  maxLayers?: number;
}

const PLANNERS: Record<PlannerName, (graph: IndexedGraph, maxLayers: number) => number[][]> = {
  single: planSingleLayer,
  popularity: planPopularityLayers,
  churn: planChurnLayers,
};

/**
 * Splits a closure's items into layers with the named planner. The same closure and options
 * always give the same plan, whatever the order of the items and references.
 */
export function planLayers(closure: ClosureGraph, options?: PlanLayersOptions): LayerPlan {
  const planner = options?.planner ?? DEFAULT_PLANNER;
  if (!Object.hasOwn(PLANNERS, planner)) {
    throw new LayerError(
      'INVALID_OPTIONS',
      `invalid planner "${String(planner).slice(0, 40)}": expected one of ${PLANNER_NAMES.join(', ')}`,
    );
  }
  const maxLayers = options?.maxLayers ?? DEFAULT_MAX_LAYERS;
  if (!Number.isSafeInteger(maxLayers) || maxLayers < 1) {
    throw new LayerError(
      'INVALID_OPTIONS',
      `invalid maxLayers ${String(maxLayers).slice(0, 40)}: expected a whole number ≥ 1, such as 100`,
    );
  }

  const graph = indexGraph(closure);
  return PLANNERS[planner](graph, maxLayers).map((layer) =>
    layer.map((item) => graph.paths[item] as string),
  );
}

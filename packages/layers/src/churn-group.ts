import type { IndexedGraph } from './closure-graph.js';
import { addAll, countShared, countUnion, type ItemSet, listItems } from './item-set.js';
import { triggerSets } from './trigger-sets.js';

/** A group of items that will share a layer, numbered by its lowest item. */
export interface Group {
  items: number[];
  /** Sum of the items' weights. */
  bytes: number;
  /** The items whose change gives some item of the group a new store path. */
  triggers: ItemSet;
  /** The same items as `triggers`, ascending, so that small sets intersect in few steps. */
  triggerList: Int32Array;
  /** True while `candidates` lists every other group, so no group was ever left out. */
  complete: boolean;
  /**
   * The groups that cost least to merge with, cheapest first, at most as many as the planner
   * keeps. Every group left out costs at least as much as the last one listed.
   */
  candidates: Candidate[];
}

/** Another group, by number, and what merging with it costs. */
export interface Candidate {
  id: number;
  cost: number;
}

/** Creates one group for each item of the graph, numbered as the items are. */
export function createGroups(graph: IndexedGraph): Group[] {
  return triggerSets(graph).map((set, item) => ({
    items: [item],
    bytes: graph.sizes[item] as number,
    triggers: set,
    triggerList: listItems(set),
    complete: true,
    candidates: [],
  }));
}

/** Moves the items of group `drop` into group `keep`, which leaves `drop` undefined. */
export function joinGroups(groups: (Group | undefined)[], keep: number, drop: number): void {
  const target = groups[keep] as Group;
  const source = groups[drop] as Group;
  target.items.push(...source.items);
  target.bytes += source.bytes;
  addAll(target.triggers, source.triggers);
  target.triggerList = listItems(target.triggers);
  groups[drop] = undefined;
}

/** Counts the triggers that two groups share. */
export function sharedTriggers(a: Group, b: Group): number {
  const small = a.triggerList.length <= b.triggerList.length ? a : b;
  const large = small === a ? b : a;
  // A sparse set intersects faster through its list, a dense one through its words.
  return small.triggerList.length < small.triggers.length * 4
    ? countShared(small.triggerList, large.triggers)
    : small.triggerList.length +
        large.triggerList.length -
        countUnion(small.triggers, large.triggers);
}

/**
 * Computes the cost that merging two groups adds, given the number of triggers they share: the
 * bytes of each that only the other's triggers rebuild.
 */
export function costWithShared(a: Group, b: Group, shared: number): number {
  return a.bytes * (b.triggerList.length - shared) + b.bytes * (a.triggerList.length - shared);
}

/** Computes the cost that merging two groups adds. */
export function mergeCost(a: Group, b: Group): number {
  return costWithShared(a, b, sharedTriggers(a, b));
}

import type { IndexedGraph } from './closure-graph.js';
import {
  addAll,
  addItem,
  countShared,
  countUnion,
  createItemSet,
  hasItem,
  type ItemSet,
  listItems,
} from './item-set.js';
import { MinHeap } from './min-heap.js';

/** A group of items that will share a layer, numbered by its lowest item. */
interface Group {
  items: number[];
  /** Sum of the items' weights. */
  bytes: number;
  /** The items whose change gives some item of the group a new store path. */
  triggers: ItemSet;
  /** The same items as `triggers`, ascending, so that small sets intersect in few steps. */
  triggerList: number[];
  /** True while `candidates` lists every other group, so no group was ever left out. */
  complete: boolean;
  /**
   * The groups that cost least to merge with, cheapest first, at most {@link CANDIDATES}. Every
   * group left out costs at least as much as the last one listed.
   */
  candidates: Candidate[];
}

interface Candidate {
  id: number;
  cost: number;
}

/** Length of each group's candidate list. A longer list means fewer full rescans. */
const CANDIDATES = 32;

/**
 * The number of groups from which the planner compares every pair. A larger closure is first
 * merged along its references alone, down to this many groups, because comparing every pair takes
 * time that grows with the cube of the count.
 */
const ALL_PAIRS_LIMIT = 1000;

/** Two groups that a reference joins, numbered `low` and `high`, at the merge cost it was queued at. */
interface Edge {
  cost: number;
  low: number;
  high: number;
}

/**
 * Groups the items into at most `maxLayers` layers so that a change to one item re-uploads as few
 * bytes as possible. When an item changes, it and every item that refers to it, directly or not,
 * get new store paths, so a layer is rebuilt when any item it contains depends on the changed one.
 * With every item equally likely to change, a layer of `bytes` that such `triggers` items rebuild
 * costs `bytes × triggers` on average. Starting from one layer per item, the planner merges the two
 * layers whose merge adds the least cost until `maxLayers` remain. Large items thus keep layers of
 * their own, and small items share layers with items that change with them. For a closure of more
 * than {@link ALL_PAIRS_LIMIT} items, the first merges look only at layers that a reference joins.
 */
// NOTE: past ALL_PAIRS_LIMIT items, the plan may cost up to 1.5 % more than comparing every pair
// (measured on synthetic closures only). An item that thousands refer to is slow in the first
// pass: each merge into it raises the cost of all its edges, which then leave the queue again.
export function planChurnLayers(graph: IndexedGraph, maxLayers: number): number[][] {
  const count = graph.paths.length;
  const triggers = triggerSets(graph);
  const groups: (Group | undefined)[] = triggers.map((set, item) => ({
    items: [item],
    bytes: graph.sizes[item] as number,
    triggers: set,
    triggerList: listItems(set),
    complete: true,
    candidates: [],
  }));

  let remaining = count;
  if (remaining > Math.max(maxLayers, ALL_PAIRS_LIMIT)) {
    remaining = mergeAlongReferences(graph, groups, Math.max(maxLayers, ALL_PAIRS_LIMIT));
  }
  if (remaining > maxLayers) {
    findAllCandidates(groups);
  }
  while (remaining > maxLayers) {
    const [keep, drop] = cheapestPair(groups);
    mergeGroups(groups, keep, drop);
    remaining -= 1;
  }

  const kept = groups.filter((group): group is Group => group !== undefined);
  // Layers that fewer changes rebuild come first, so the lower layers of an image stay put.
  kept.sort(
    (a, b) =>
      a.triggerList.length - b.triggerList.length ||
      (a.items[0] as number) - (b.items[0] as number),
  );
  return kept.map((group) => group.items.sort((a, b) => a - b));
}

/** For each item, the set of items whose change gives it a new store path: itself and its requisites. */
function triggerSets(graph: IndexedGraph): ItemSet[] {
  const count = graph.paths.length;
  return graph.paths.map((_path, item) => {
    const set = createItemSet(count);
    addItem(set, item);
    const pending = [item];
    while (pending.length > 0) {
      for (const reference of graph.references[pending.pop() as number] as number[]) {
        if (!hasItem(set, reference)) {
          addItem(set, reference);
          pending.push(reference);
        }
      }
    }
    return set;
  });
}

/**
 * Merges groups that a reference joins, the cheapest pair first, until `limit` groups remain or
 * no two remaining groups are joined. Returns the number of groups left. Most groups have only a
 * few such neighbours, so this usually computes far fewer costs than comparing every pair.
 *
 * Every edge is in the queue at a cost no higher than its current one. A merge queues the edges
 * of the merged group that are new or whose cost went down. An edge whose cost went up is queued
 * again at its new cost when it comes out. So the first edge to come out at its current cost is
 * the cheapest.
 */
function mergeAlongReferences(
  graph: IndexedGraph,
  groups: (Group | undefined)[],
  limit: number,
): number {
  const count = groups.length;
  const neighbours = graph.references.map(
    (references, item) => new Set([...references, ...(graph.referrers[item] as number[])]),
  );
  const queue = new MinHeap<Edge>(compareEdges);
  // NOTE: a Map holds at most 2^24 entries, so a closure with more distinct references throws.
  /** The cost each edge was last queued at, by `low * count + high`. */
  const queued = new Map<number, number>();
  const costOf = (low: number, high: number) =>
    mergeCost(groups[low] as Group, groups[high] as Group);
  const offer = (a: number, b: number, always: boolean) => {
    const low = Math.min(a, b);
    const high = Math.max(a, b);
    const cost = costOf(low, high);
    const previous = queued.get(low * count + high);
    if (always || previous === undefined || cost < previous) {
      queued.set(low * count + high, cost);
      queue.push({ cost, low, high });
    }
  };
  for (const [item, references] of graph.references.entries()) {
    for (const reference of references) {
      offer(item, reference, false);
    }
  }

  let remaining = count;
  while (remaining > limit) {
    const edge = queue.pop();
    if (edge === undefined) {
      break;
    }
    const { low, high } = edge;
    if (groups[low] === undefined || groups[high] === undefined) {
      continue;
    }
    if (queued.get(low * count + high) !== edge.cost) {
      // This entry is out of date: the edge was queued again later, at another cost.
      continue;
    }
    if (costOf(low, high) !== edge.cost) {
      offer(low, high, true);
      continue;
    }
    for (const neighbour of neighbours[high] as Set<number>) {
      queued.delete(Math.min(high, neighbour) * count + Math.max(high, neighbour));
    }
    joinGroups(groups, low, high);
    remaining -= 1;

    const joined = neighbours[low] as Set<number>;
    for (const neighbour of neighbours[high] as Set<number>) {
      joined.add(neighbour);
      const theirs = neighbours[neighbour] as Set<number>;
      theirs.delete(high);
      theirs.add(low);
    }
    joined.delete(low);
    joined.delete(high);
    neighbours[high] = new Set();
    for (const neighbour of joined) {
      offer(low, neighbour, false);
    }
  }
  return remaining;
}

/** Orders edges by cost, then by their group numbers, so that ties resolve the same way every time. */
function compareEdges(a: Edge, b: Edge): number {
  return a.cost - b.cost || a.low - b.low || a.high - b.high;
}

/** Moves the items of group `drop` into group `keep`, which leaves `drop` undefined. */
function joinGroups(groups: (Group | undefined)[], keep: number, drop: number): void {
  const target = groups[keep] as Group;
  const source = groups[drop] as Group;
  target.items.push(...source.items);
  target.bytes += source.bytes;
  addAll(target.triggers, source.triggers);
  target.triggerList = listItems(target.triggers);
  groups[drop] = undefined;
}

/** Computes the cost that merging two groups adds: the bytes of each that only the other's triggers rebuild. */
function mergeCost(a: Group, b: Group): number {
  const aIsSmaller = a.triggerList.length <= b.triggerList.length;
  const small = aIsSmaller ? a : b;
  const large = aIsSmaller ? b : a;
  // A sparse set intersects faster through its list, a dense one through its words.
  const shared =
    small.triggerList.length < small.triggers.length * 4
      ? countShared(small.triggerList, large.triggers)
      : small.triggerList.length +
        large.triggerList.length -
        countUnion(small.triggers, large.triggers);
  // Bytes of a rebuilt by changes that only b's items feel, and the other way round.
  return a.bytes * (b.triggerList.length - shared) + b.bytes * (a.triggerList.length - shared);
}

/**
 * Compares group `id`, at merge cost `cost`, with a listed candidate: by cost, then by group
 * number, so that ties resolve the same way every time.
 */
function compareOffer(listed: Candidate, id: number, cost: number): number {
  return cost - listed.cost || id - listed.id;
}

/** Lists the groups that cost least to merge with group `id`, scanning every other group. */
function findCandidates(groups: (Group | undefined)[], id: number): void {
  const group = groups[id] as Group;
  group.candidates = [];
  group.complete = true;
  for (let other = 0; other < groups.length; other++) {
    const candidate = groups[other];
    if (candidate !== undefined && other !== id) {
      offerCandidate(group, other, mergeCost(group, candidate));
    }
  }
}

/** Lists every group's cheapest candidates, computing the cost of each pair once. */
function findAllCandidates(groups: (Group | undefined)[]): void {
  for (let id = 0; id < groups.length; id++) {
    const group = groups[id];
    if (group === undefined) {
      continue;
    }
    for (let other = id + 1; other < groups.length; other++) {
      const candidate = groups[other];
      if (candidate === undefined) {
        continue;
      }
      const cost = mergeCost(group, candidate);
      offerCandidate(group, other, cost);
      offerCandidate(candidate, id, cost);
    }
  }
}

/**
 * Inserts group `id`, which costs `cost` to merge with, into a group's list when it is among the
 * cheapest {@link CANDIDATES}.
 */
function offerCandidate(group: Group, id: number, cost: number): void {
  const list = group.candidates;
  const last = list[list.length - 1];
  if (list.length === CANDIDATES && last !== undefined && compareOffer(last, id, cost) >= 0) {
    group.complete = false;
    return;
  }
  let at = list.length;
  while (at > 0 && compareOffer(list[at - 1] as Candidate, id, cost) < 0) {
    at -= 1;
  }
  list.splice(at, 0, { id, cost });
  if (list.length > CANDIDATES) {
    list.pop();
    group.complete = false;
  }
}

/** Returns the pair with the least merge cost, ties broken by the lower group numbers. */
function cheapestPair(groups: (Group | undefined)[]): [number, number] {
  let best: [number, number] = [-1, -1];
  let bestCost = Number.POSITIVE_INFINITY;
  for (const [id, group] of groups.entries()) {
    const head = group?.candidates[0];
    if (head === undefined) {
      continue;
    }
    const pair: [number, number] = id < head.id ? [id, head.id] : [head.id, id];
    const isBetter =
      head.cost < bestCost ||
      (head.cost === bestCost && (pair[0] < best[0] || (pair[0] === best[0] && pair[1] < best[1])));
    if (isBetter) {
      best = pair;
      bestCost = head.cost;
    }
  }
  return best;
}

/** Merges group `drop` into group `keep` and updates every candidate list that the merge changes. */
function mergeGroups(groups: (Group | undefined)[], keep: number, drop: number): void {
  joinGroups(groups, keep, drop);
  const target = groups[keep] as Group;

  target.candidates = [];
  target.complete = true;
  for (let id = 0; id < groups.length; id++) {
    const group = groups[id];
    if (group === undefined || id === keep) {
      continue;
    }
    const cost = mergeCost(group, target);
    offerCandidate(target, id, cost);

    // Costs with `keep` and `drop` are out of date, but every other listed cost is still right.
    removeCandidates(group.candidates, keep, drop);
    if (group.candidates.length === 0 && !group.complete) {
      // A group left out of the list earlier may now be the cheapest, so the list is built again.
      findCandidates(groups, id);
    } else {
      offerCandidate(group, keep, cost);
    }
  }
}

/** Removes the candidates numbered `a` or `b` from a list, in place. */
function removeCandidates(list: Candidate[], a: number, b: number): void {
  let count = 0;
  for (const candidate of list) {
    if (candidate.id !== a && candidate.id !== b) {
      list[count] = candidate;
      count += 1;
    }
  }
  list.length = count;
}

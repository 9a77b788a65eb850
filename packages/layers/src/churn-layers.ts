import { type Candidate, createGroups, type Group, joinGroups, mergeCost } from './churn-group.js';
import type { IndexedGraph } from './closure-graph.js';
import { mergeAlongReferences } from './merge-along-references.js';

/** Length of each group's candidate list. A longer list means fewer full rescans. */
const CANDIDATES = 32;

/**
 * The number of groups from which the planner compares every pair. A larger closure is first
 * merged along its references alone, down to this many groups, because comparing every pair takes
 * time that grows with the cube of the count.
 */
const ALL_PAIRS_LIMIT = 1000;

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
// (measured on synthetic closures only). Items that no reference joins still go through every
// pair: 10,000 of them took 16 s.
export function planChurnLayers(graph: IndexedGraph, maxLayers: number): number[][] {
  const count = graph.paths.length;
  const groups: (Group | undefined)[] = createGroups(graph);

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

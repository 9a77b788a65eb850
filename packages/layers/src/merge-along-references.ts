import { costWithShared, type Group, joinGroups, sharedTriggers } from './churn-group.js';
import type { IndexedGraph } from './closure-graph.js';
import { IndexedHeap } from './indexed-heap.js';
import { countShared, hasItem } from './item-set.js';

/**
 * The links between groups that a reference joins. Each link has a number, under which typed
 * arrays hold its two groups (`low` below `high`), the triggers they share and the cost of
 * merging them. A merge adds no link: the merged group takes over the links of both, and a link
 * that would join it to a neighbour a second time is dropped.
 */
class Links {
  readonly low: Int32Array;
  readonly high: Int32Array;
  readonly shared: Int32Array;
  readonly cost: Float64Array;
  readonly dropped: Uint8Array;
  /** For each group, the numbers of its links, dropped ones included until the group merges. */
  readonly byGroup: number[][];
  /** For each group, the last pass that met it, so that a pass finds a neighbour met twice. */
  readonly #seen: Int32Array;
  #pass = 0;
  count = 0;

  constructor(groups: number, capacity: number) {
    this.low = new Int32Array(capacity);
    this.high = new Int32Array(capacity);
    this.shared = new Int32Array(capacity);
    this.cost = new Float64Array(capacity);
    this.dropped = new Uint8Array(capacity);
    this.byGroup = Array.from({ length: groups }, () => []);
    this.#seen = new Int32Array(groups);
  }

  /** Orders links by cost, then by their group numbers, so that ties resolve the same way every time. */
  readonly compare = (a: number, b: number): number =>
    (this.cost[a] as number) - (this.cost[b] as number) ||
    (this.low[a] as number) - (this.low[b] as number) ||
    (this.high[a] as number) - (this.high[b] as number);

  /** Returns the group at the other end of `link` from `group`. */
  other(link: number, group: number): number {
    const low = this.low[link] as number;
    return low === group ? (this.high[link] as number) : low;
  }

  /** Makes `link` join groups `a` and `b`. */
  join(link: number, a: number, b: number): void {
    this.low[link] = Math.min(a, b);
    this.high[link] = Math.max(a, b);
  }

  /** Starts a pass, after which `meet` reports whether the pass met a group before. */
  startPass(): void {
    this.#pass += 1;
  }

  /** Returns whether this pass met `group` before, and records that it has now. */
  meet(group: number): boolean {
    if (this.#seen[group] === this.#pass) {
      return true;
    }
    this.#seen[group] = this.#pass;
    return false;
  }

  /** Removes the dropped links from a group's list, in place, and returns the list. */
  prune(group: number): number[] {
    const list = this.byGroup[group] as number[];
    let remaining = 0;
    for (const link of list) {
      if (this.dropped[link] === 0) {
        list[remaining] = link;
        remaining += 1;
      }
    }
    list.length = remaining;
    return list;
  }
}

/**
 * Merges groups that a reference joins, the cheapest pair first, until `limit` groups remain or
 * no two remaining groups are joined. Returns the number of groups left. Most groups have only a
 * few such neighbours, so this computes far fewer costs than comparing every pair.
 *
 * Each link keeps the number of triggers its two groups share. When a group takes in another,
 * the count for each neighbour grows by the new triggers that the neighbour also has. Counting
 * them takes few steps when they are few, as when an item merges into one it refers to.
 */
export function mergeAlongReferences(
  graph: IndexedGraph,
  groups: (Group | undefined)[],
  limit: number,
): number {
  const count = groups.length;
  let capacity = 0;
  for (const references of graph.references) {
    capacity += references.length;
  }
  const links = new Links(count, capacity);
  const queue = new IndexedHeap(capacity, links.compare);
  for (const [item, references] of graph.references.entries()) {
    links.startPass();
    for (const link of links.byGroup[item] as number[]) {
      links.meet(links.other(link, item));
    }
    for (const reference of references) {
      if (links.meet(reference)) {
        continue;
      }
      const link = links.count;
      links.count += 1;
      links.join(link, item, reference);
      (links.byGroup[item] as number[]).push(link);
      (links.byGroup[reference] as number[]).push(link);
      const a = groups[item] as Group;
      const b = groups[reference] as Group;
      const shared = sharedTriggers(a, b);
      links.shared[link] = shared;
      links.cost[link] = costWithShared(a, b, shared);
      queue.push(link);
    }
  }

  let remaining = count;
  while (remaining > limit) {
    const link = queue.pop();
    if (link === undefined) {
      break;
    }
    links.dropped[link] = 1;
    mergeLink(groups, links, queue, link);
    remaining -= 1;
  }
  return remaining;
}

/**
 * Merges the two groups that `link`, already dropped, joins and brings the links of the merged
 * group up to date.
 */
function mergeLink(
  groups: (Group | undefined)[],
  links: Links,
  queue: IndexedHeap,
  link: number,
): void {
  const low = links.low[link] as number;
  const high = links.high[link] as number;
  const target = groups[low] as Group;
  const added = (groups[high] as Group).triggerList.filter(
    (trigger) => !hasItem(target.triggers, trigger),
  );
  joinGroups(groups, low, high);

  links.startPass();
  const ours = links.prune(low);
  for (const link of ours) {
    const neighbour = links.other(link, low);
    links.meet(neighbour);
    const previous = links.shared[link] as number;
    links.shared[link] = sharedAfterMerge(previous, added, target, groups[neighbour] as Group);
  }
  for (const link of links.prune(high)) {
    const neighbour = links.other(link, high);
    if (links.meet(neighbour)) {
      links.dropped[link] = 1;
      queue.remove(link);
      continue;
    }
    // The link's key changes with its groups, so it moves now, while no other key is stale.
    links.join(link, low, neighbour);
    queue.update(link);
    links.shared[link] = sharedTriggers(target, groups[neighbour] as Group);
    ours.push(link);
  }
  links.byGroup[high] = [];

  // Sorting the whole queue again costs roughly as much as moving a tenth of its links one by one.
  // Otherwise each link moves right after its cost changes, so that the others stay in order.
  const rebuild = ours.length * 10 > queue.size;
  for (const link of ours) {
    const neighbour = groups[links.other(link, low)] as Group;
    links.cost[link] = costWithShared(target, neighbour, links.shared[link] as number);
    if (!rebuild) {
      queue.update(link);
    }
  }
  if (rebuild) {
    queue.rebuild();
  }
}

/**
 * Counts the triggers that group `merged`, which has just taken in the triggers `added`, shares
 * with `neighbour`, given the count from before the merge. Checking the added triggers one by one
 * is quicker while they are fewer than it takes to intersect the two groups afresh.
 */
function sharedAfterMerge(
  previous: number,
  added: Int32Array,
  merged: Group,
  neighbour: Group,
): number {
  if (added.length < Math.min(merged.triggerList.length, neighbour.triggerList.length)) {
    return previous + countShared(added, neighbour.triggers);
  }
  return sharedTriggers(merged, neighbour);
}

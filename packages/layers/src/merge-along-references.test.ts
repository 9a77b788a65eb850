import { describe, expect, it } from 'vitest';
import { createGroups, type Group, joinGroups, mergeCost } from './churn-group.js';
import { type ClosureGraphItem, type IndexedGraph, indexGraph } from './closure-graph.js';
import { mergeAlongReferences } from './merge-along-references.js';

const store = (index: number) => `/nix/store/${String(index).padStart(32, '0')}-item${index}`;

/**
 * Generates a deterministic pseudo-random graph of `count` items, each referring to earlier ones, and a few
 * to many, so that some groups have many neighbours. With `cycles`, some references point to
 * later items as well. With `equalSizes`, every item weighs the same, so that many merges cost
 * the same.
 */
function generatedGraph(
  count: number,
  seed: number,
  { cycles, equalSizes }: { cycles: boolean; equalSizes: boolean },
): IndexedGraph {
  let state = seed;
  const random = (bound: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.floor((state / 2 ** 32) * bound);
  };
  const items: ClosureGraphItem[] = [];
  for (let index = 0; index < count; index++) {
    const fanOut = index === 0 ? 0 : random(10) === 0 ? random(index) : random(4);
    const references = Array.from({ length: fanOut }, () =>
      store(cycles && random(20) === 0 ? random(count) : random(index)),
    );
    items.push({
      path: store(index),
      references,
      narSize: equalSizes ? 1000 : 1 + random(100_000),
    });
  }
  return indexGraph({ items, roots: [store(count - 1)] });
}

/**
 * Merges by the same rules the slow way: at each step, cost every pair of groups that a reference
 * joins and merge the cheapest, ties broken by the lower group numbers.
 */
function mergeTheSlowWay(
  graph: IndexedGraph,
  groups: (Group | undefined)[],
  limit: number,
): number {
  const groupOf = groups.map((_group, item) => item);
  let remaining = groups.length;
  while (remaining > limit) {
    let best: { cost: number; low: number; high: number } | undefined;
    for (const [item, references] of graph.references.entries()) {
      for (const reference of references) {
        const a = groupOf[item] as number;
        const b = groupOf[reference] as number;
        if (a === b) {
          continue;
        }
        const low = Math.min(a, b);
        const high = Math.max(a, b);
        const cost = mergeCost(groups[low] as Group, groups[high] as Group);
        const isBetter =
          best === undefined ||
          cost < best.cost ||
          (cost === best.cost && (low < best.low || (low === best.low && high < best.high)));
        if (isBetter) {
          best = { cost, low, high };
        }
      }
    }
    if (best === undefined) {
      break;
    }
    for (const item of (groups[best.high] as Group).items) {
      groupOf[item] = best.low;
    }
    joinGroups(groups, best.low, best.high);
    remaining -= 1;
  }
  return remaining;
}

const itemsOf = (groups: (Group | undefined)[]) =>
  groups.map((group) => (group === undefined ? undefined : [...group.items].sort((a, b) => a - b)));

describe('mergeAlongReferences', () => {
  const cases = Array.from({ length: 24 }, (_, index) => ({
    count: 30 + ((index * 13) % 60),
    seed: index + 1,
    cycles: index % 4 === 1,
    equalSizes: index % 3 === 0,
    limit: 1 + ((index * 7) % 25),
  }));

  it.each(cases)(
    'merges $count items down to $limit as the slow way does (seed $seed, cycles: $cycles, equal sizes: $equalSizes)',
    ({ count, seed, cycles, equalSizes, limit }) => {
      const graph = generatedGraph(count, seed, { cycles, equalSizes });
      const fast = createGroups(graph);
      const slow = createGroups(graph);
      const remaining = mergeAlongReferences(graph, fast, limit);
      expect(remaining).toBe(mergeTheSlowWay(graph, slow, limit));
      expect(itemsOf(fast)).toEqual(itemsOf(slow));
      expect(fast.filter((group) => group !== undefined)).toHaveLength(remaining);
    },
  );

  it('stops when no link remains', () => {
    // Two chains of three items, which no reference joins to each other.
    const items = [0, 1, 2, 3, 4, 5].map((index) => ({
      path: store(index),
      references: index % 3 === 0 ? [] : [store(index - 1)],
      narSize: 10,
    }));
    const graph = indexGraph({ items, roots: [store(2), store(5)] });
    const groups = createGroups(graph);
    expect(mergeAlongReferences(graph, groups, 1)).toBe(2);
    expect(itemsOf(groups).filter((group) => group !== undefined)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
  });

  it('merges leaves into their base, cheapest first', () => {
    // Four leaves refer to a base. After the first merge, a heavier leaf costs more to merge, so
    // the heaviest stays alone.
    const sizes = [100, 1, 2, 3, 50];
    const items = sizes.map((narSize, index) => ({
      path: store(index),
      references: index === 0 ? [] : [store(0)],
      narSize,
    }));
    const graph = indexGraph({ items, roots: [1, 2, 3, 4].map(store) });
    const groups = createGroups(graph);
    expect(mergeAlongReferences(graph, groups, 2)).toBe(2);
    expect(itemsOf(groups).filter((group) => group !== undefined)).toEqual([[0, 1, 2, 3], [4]]);
  });
});

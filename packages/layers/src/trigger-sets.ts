import type { IndexedGraph } from './closure-graph.js';
import { addAll, addItem, createItemSet, type ItemSet } from './item-set.js';

/**
 * Computes, for each item, the set of items whose change gives it a new store path: itself and
 * its requisites. Items that refer to each other in a cycle have the same set. Each set is the union
 * of the sets of the items referred to, so every reference is followed once, in the order of
 * Tarjan's algorithm for strongly connected components, which finishes a component only after
 * every component it refers to.
 */
export function triggerSets(graph: IndexedGraph): ItemSet[] {
  const count = graph.paths.length;
  const sets: ItemSet[] = new Array(count);
  /** The order in which the search reached each item, from 1; 0 while not reached. */
  const order = new Int32Array(count);
  /** The lowest order reachable from each item through the items still on `open`. */
  const lowest = new Int32Array(count);
  const onOpen = new Uint8Array(count);
  /** Items reached whose component is not finished, in the order reached. */
  const open: number[] = [];
  /** The search path: items, with how many of each item's references were followed. */
  const path: number[] = [];
  const followed: number[] = [];
  let reached = 0;
  const reach = (item: number) => {
    reached += 1;
    order[item] = reached;
    lowest[item] = reached;
    open.push(item);
    onOpen[item] = 1;
    path.push(item);
    followed.push(0);
  };

  for (let start = 0; start < count; start++) {
    if (order[start] !== 0) {
      continue;
    }
    reach(start);

    while (path.length > 0) {
      const item = path[path.length - 1] as number;
      const references = graph.references[item] as number[];
      const next = followed[followed.length - 1] as number;
      if (next < references.length) {
        followed[followed.length - 1] = next + 1;
        const reference = references[next] as number;
        if (order[reference] === 0) {
          reach(reference);
        } else if (onOpen[reference] === 1) {
          lowest[item] = Math.min(lowest[item] as number, order[reference] as number);
        }
        continue;
      }

      path.pop();
      followed.pop();
      const parent = path[path.length - 1];
      if (parent !== undefined) {
        lowest[parent] = Math.min(lowest[parent] as number, lowest[item] as number);
      }
      if (lowest[item] === order[item]) {
        finishComponent(graph, sets, open, onOpen, item);
      }
    }
  }
  return sets;
}

/**
 * Takes the component whose first item reached is `first` off `open` and gives each of its
 * items its own copy of their shared set.
 */
function finishComponent(
  graph: IndexedGraph,
  sets: ItemSet[],
  open: number[],
  onOpen: Uint8Array,
  first: number,
): void {
  const members: number[] = [];
  let member: number;
  do {
    member = open.pop() as number;
    onOpen[member] = 0;
    members.push(member);
  } while (member !== first);

  const set = createItemSet(graph.paths.length);
  for (const item of members) {
    addItem(set, item);
  }
  for (const item of members) {
    for (const reference of graph.references[item] as number[]) {
      const finished = sets[reference];
      // References inside the component have no set yet; their items are in `set` already.
      if (finished !== undefined) {
        addAll(set, finished);
      }
    }
  }
  for (const [index, item] of members.entries()) {
    sets[item] = index === 0 ? set : set.slice();
  }
}

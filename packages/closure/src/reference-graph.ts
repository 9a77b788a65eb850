import type { ClosureItem } from './closure.js';
import { ClosureError } from './errors.js';

/** An entry of a reference graph: the references of one store item and what else is recorded. */
export interface GraphEntry {
  /** Store paths the item refers to, in the order the source lists them. */
  references: string[];
  /** Size of the item's NAR serialisation in bytes, when recorded. */
  narSize?: number;
}

/** Store items mapped to their references, as a closure file or a store command lists them. */
export type ReferenceGraph = Map<string, GraphEntry>;

/**
 * Walks `graph` breadth-first from `roots` and returns the items of their closure. `where` names
 * the graph's origin in errors, e.g. `closure file ./graph`. A root with no entry throws `notListed`,
 * and a reference with no entry throws `MISSING_REFERENCE`.
 */
export function closureFromGraph(
  graph: ReferenceGraph,
  roots: string[],
  where: string,
  notListed: 'NOT_IN_FILE' | 'NOT_IN_DATABASE',
): ClosureItem[] {
  for (const root of roots) {
    if (!graph.has(root)) {
      throw new ClosureError(notListed, `${root} is not listed in ${where}`, { path: root });
    }
  }

  const queue = [...roots];
  const queued = new Set(roots);
  const items: ClosureItem[] = [];
  for (let index = 0; index < queue.length; index += 1) {
    const path = queue[index] as string;
    const entry = graph.get(path) as GraphEntry;

    for (const reference of entry.references) {
      if (queued.has(reference)) {
        continue;
      }
      if (!graph.has(reference)) {
        throw new ClosureError(
          'MISSING_REFERENCE',
          `${where}: ${path} refers to ${reference}, which has no entry of its own`,
          { path: reference },
        );
      }
      queued.add(reference);
      queue.push(reference);
    }

    const item: ClosureItem = { path, references: [...new Set(entry.references)].sort() };
    if (entry.narSize !== undefined) {
      item.narSize = entry.narSize;
    }
    items.push(item);
  }
  return items;
}

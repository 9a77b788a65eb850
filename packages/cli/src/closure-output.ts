import {
  type Closure,
  type ClosureItem,
  closureSizes,
  reverseReferences,
} from '@storepack/closure';

/** Formats a closure as `nix-store --query --requisites` does: one store path per line, sorted. */
export function formatPaths(closure: Closure): string {
  return closure.items.map((item) => `${item.path}\n`).join('');
}

/**
 * Formats a closure as `nix path-info --recursive --size --closure-size --human-readable` does:
 * each path, its NAR size and its closure size, with `?` for a size the source does not know.
 */
export function formatSizes(closure: Closure): string {
  const sizes = closureSizes(closure);
  const width = Math.max(...closure.items.map((item) => item.path.length));
  return closure.items
    .map((item) => {
      const own = humanSize(item.narSize).padStart(10);
      const total = humanSize(sizes.get(item.path)).padStart(10);
      return `${item.path.padEnd(width)}  ${own}  ${total}\n`;
    })
    .join('');
}

/**
 * Formats a closure as `nix-store --query --tree` does: each root with its references below it,
 * sorted by path, and an item seen before marked `[...]` instead of repeated.
 */
export function formatTree(closure: Closure): string {
  const byPath = new Map(closure.items.map((item) => [item.path, item]));
  const seen = new Set<string>();
  const lines: string[] = [];

  const visit = (item: ClosureItem, prefix: string, childPrefix: string) => {
    if (seen.has(item.path)) {
      lines.push(`${prefix}${item.path} [...]`);
      return;
    }
    seen.add(item.path);
    lines.push(`${prefix}${item.path}`);
    item.references.forEach((reference, index) => {
      const last = index === item.references.length - 1;
      const child = byPath.get(reference) as ClosureItem;
      visit(
        child,
        `${childPrefix}${last ? '└───' : '├───'}`,
        `${childPrefix}${last ? '    ' : '│   '}`,
      );
    });
  };
  for (const root of closure.roots) {
    visit(byPath.get(root) as ClosureItem, '', '');
  }
  return lines.map((line) => `${line}\n`).join('');
}

/**
 * Formats a closure as a Graphviz graph, as `nix-store --query --graph` does: one box per item
 * labelled with its name, and an edge from each reference to the item that refers to it.
 */
export function formatDot(closure: Closure): string {
  const nodeId = (path: string) => JSON.stringify(path.slice(closure.storeDir.length + 1));
  const lines = ['digraph G {'];
  for (const item of closure.items) {
    const label = JSON.stringify(item.path.slice(closure.storeDir.length + 34));
    lines.push(
      `${nodeId(item.path)} [label = ${label}, shape = box, style = filled, fillcolor = "#ff0000"];`,
    );
    for (const reference of item.references) {
      if (reference !== item.path) {
        lines.push(`${nodeId(reference)} -> ${nodeId(item.path)} [color = "black"];`);
      }
    }
  }
  lines.push('}');
  return lines.map((line) => `${line}\n`).join('');
}

/** Formats a closure as the JSON object that `storepack closure --help` documents. */
export function formatClosureJson(closure: Closure): string {
  const sizes = closureSizes(closure);
  const referrers = reverseReferences(closure);
  const narSizes = closure.items.map((item) => item.narSize);
  const total = narSizes.every((size) => size !== undefined)
    ? narSizes.reduce((sum, size) => sum + size, 0)
    : null;

  const document = {
    storeDir: closure.storeDir,
    roots: closure.roots,
    source: closure.source,
    narSize: total,
    items: closure.items.map((item) => ({
      path: item.path,
      references: item.references,
      referrers: referrers.get(item.path) ?? [],
      narSize: item.narSize ?? null,
      closureSize: sizes.get(item.path) ?? null,
      fileCount: item.fileCount ?? null,
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * Writes a byte count with one decimal and a binary unit, e.g. `96.2 KiB`, the value that Nix
 * 2.8's `nix path-info -h` prints as `96.2K`.
 */
export function humanSize(bytes: number | undefined): string {
  if (bytes === undefined) {
    return '?';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

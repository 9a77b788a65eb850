import { readFile } from 'node:fs/promises';
import type { ClosureItem } from './closure.js';
import { ClosureError, describeCause } from './errors.js';
import type { Logger } from './logger.js';
import { parsePathInfoJson } from './path-info-json.js';
import { closureFromGraph, type ReferenceGraph } from './reference-graph.js';
import { parseRegistration } from './registration-file.js';

/**
 * Reads a closure file and parses it by its content: JSON from `nix path-info --json
 * --recursive` when it starts with `[` or `{`, else the line format of `exportReferencesGraph`,
 * Guix's `#:references-graphs` or a registration (`nix-store --dump-db`, closureInfo).
 */
export async function readClosureFile(file: string, storeDir: string): Promise<ReferenceGraph> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ClosureError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'READ',
      `reading closure file ${file}: ${describeCause(error)}`,
      { path: file, cause: error },
    );
  }

  const start = text.trimStart()[0];
  if (start === undefined) {
    throw new ClosureError(
      'INVALID_FILE',
      `closure file ${file} is empty: expected at least one item`,
      {
        path: file,
      },
    );
  }
  return start === '[' || start === '{'
    ? parsePathInfoJson(text, file, storeDir)
    : parseRegistration(text, storeDir, `closure file ${file}`, file);
}

/** Reads the closure of `roots` from a closure file. */
export async function readFileClosure(
  file: string,
  storeDir: string,
  roots: string[],
  logger?: Logger,
): Promise<ClosureItem[]> {
  const graph = await readClosureFile(file, storeDir);
  const items = closureFromGraph(graph, roots, `closure file ${file}`, 'NOT_IN_FILE');
  logger?.debug('read closure from closure file', {
    file,
    listed: graph.size,
    items: items.length,
  });
  return items;
}

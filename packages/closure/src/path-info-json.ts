import { ClosureError } from './errors.js';
import { findJsonSyntaxError } from './json-syntax.js';
import type { ReferenceGraph } from './reference-graph.js';
import { parseStorePath } from './store-path.js';

/**
 * Parses the output of `nix path-info --json --recursive`: an array of objects with a `path`
 * (older Nix, such as 2.8), or an object keyed by store path (newer Nix). Each entry needs
 * `references`; `narSize` is kept when present. Entries of invalid paths (`"valid": false`, or
 * null in the object form) are left out. References may be store paths or item names.
 * Throws `INVALID_FILE` with the line of a JSON syntax error or the JSON path of a bad value.
 */
export function parsePathInfoJson(text: string, file: string, storeDir: string): ReferenceGraph {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ClosureError('INVALID_FILE', `closure file ${file}${describeSyntaxError(text)}`, {
      path: file,
      cause: error,
    });
  }

  const fail = (jsonPath: string, expected: string, value: unknown): never => {
    const found = JSON.stringify(value)?.slice(0, 80) ?? String(value);
    throw new ClosureError(
      'INVALID_FILE',
      `closure file ${file}: ${jsonPath}: expected ${expected}, found ${found}`,
      { path: file },
    );
  };
  const toPath = (jsonPath: string, value: unknown): string => {
    if (typeof value !== 'string') {
      return fail(jsonPath, `a store path of ${storeDir}`, value);
    }
    const full = value.startsWith('/') ? value : `${storeDir}/${value}`;
    try {
      if (parseStorePath(full, storeDir).path === full) {
        return full;
      }
    } catch {
      // Reported below with the JSON path.
    }
    return fail(jsonPath, `a store path of ${storeDir}`, value);
  };

  const graph: ReferenceGraph = new Map();
  const add = (jsonPath: string, path: string, info: unknown): void => {
    if (info === null || (isObject(info) && info.valid === false)) {
      return;
    }
    if (!isObject(info)) {
      fail(jsonPath, 'an object with references', info);
      return;
    }
    if (!Array.isArray(info.references)) {
      fail(`${jsonPath}.references`, 'an array of store paths', info.references);
      return;
    }
    const references = info.references.map((reference, index) =>
      toPath(`${jsonPath}.references[${index}]`, reference),
    );
    const narSize = info.narSize;
    if (narSize !== undefined && !(Number.isSafeInteger(narSize) && (narSize as number) >= 0)) {
      fail(`${jsonPath}.narSize`, 'a size in bytes', narSize);
      return;
    }
    graph.set(
      path,
      narSize === undefined ? { references } : { references, narSize: narSize as number },
    );
  };

  if (Array.isArray(document)) {
    document.forEach((info, index) => {
      const jsonPath = `[${index}]`;
      add(jsonPath, toPath(`${jsonPath}.path`, isObject(info) ? info.path : info), info);
    });
  } else if (isObject(document)) {
    for (const [key, info] of Object.entries(document)) {
      const jsonPath = `[${JSON.stringify(key)}]`;
      add(jsonPath, toPath(jsonPath, key), info);
    }
  } else {
    fail('$', 'an array or an object of path infos', document);
  }
  return graph;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns ` line N column M: invalid JSON: <reason>`, or `: invalid JSON` without a position. */
function describeSyntaxError(text: string): string {
  const found = findJsonSyntaxError(text);
  return found === undefined
    ? ': invalid JSON'
    : ` line ${found.line} column ${found.column}: invalid JSON: ${found.reason}`;
}

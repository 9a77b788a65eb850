import { ClosureError } from './errors.js';
import type { ReferenceGraph } from './reference-graph.js';
import { parseStorePath } from './store-path.js';

/** The two line formats of a reference graph: with NAR hash and size, or without. */
export type RegistrationFormat = 'registration' | 'references-graph';

/**
 * Parses a reference graph in the line format that Nix and Guix share. Each item is a block:
 *
 * - its store path;
 * - in `registration` format only (`nix-store --dump-db`, `--load-db`, closureInfo's
 *   `registration` file): its NAR hash, then its NAR size in bytes;
 * - its deriver, or an empty line;
 * - the number of references, then one store path per line.
 *
 * `exportReferencesGraph` and Guix's `#:references-graphs` write the `references-graph` format.
 * The format is detected from the line after the first store path. Throws `INVALID_FILE` with the
 * line number of the first line that does not fit, after `where` (e.g. `closure file ./graph`).
 */
export function parseRegistration(
  text: string,
  storeDir: string,
  where: string,
  file?: string,
): ReferenceGraph {
  const lines = text.split('\n');
  if (lines.at(-1) === '') {
    lines.pop();
  }
  const format = detectFormat(lines);
  const graph: ReferenceGraph = new Map();
  let index = 0;

  const fail = (expected: string): never => {
    const found =
      index < lines.length ? JSON.stringify(cut(lines[index] as string)) : 'the end of the file';
    throw new ClosureError(
      'INVALID_FILE',
      `${where} line ${index + 1}: expected ${expected}, found ${found}`,
      file === undefined ? undefined : { path: file },
    );
  };
  const next = (expected: string): string =>
    index < lines.length ? (lines[index++] as string) : fail(expected);
  const storePath = (expected: string): string => {
    const line = next(expected);
    if (!isItemPath(line, storeDir)) {
      index -= 1;
      fail(`${expected} (an item of ${storeDir})`);
    }
    return line;
  };
  const count = (expected: string): number => {
    const line = next(expected);
    if (!/^(0|[1-9][0-9]{0,15})$/.test(line)) {
      index -= 1;
      fail(expected);
    }
    return Number(line);
  };

  while (index < lines.length) {
    const path = storePath('a store path');
    let narSize: number | undefined;
    if (format === 'registration') {
      const hash = next('a NAR hash');
      if (!/^(sha256[:-])?[0-9A-Za-z+/=]{32,}$/.test(hash)) {
        index -= 1;
        fail('a NAR hash such as sha256:<52 base32 digits> or 64 hexadecimal digits');
      }
      narSize = count('the NAR size in bytes');
    }

    const deriver = next('a deriver or an empty line');
    if (deriver !== '' && !isItemPath(deriver, storeDir)) {
      index -= 1;
      fail('a deriver or an empty line');
    }

    const references: string[] = [];
    for (let remaining = count('the number of references'); remaining > 0; remaining -= 1) {
      references.push(storePath('a reference'));
    }
    graph.set(path, narSize === undefined ? { references } : { references, narSize });
  }
  return graph;
}

/** Tells the two formats apart by the line after the first store path: a hash or a deriver. */
function detectFormat(lines: string[]): RegistrationFormat {
  const second = lines[1];
  return second === undefined || second === '' || second.startsWith('/')
    ? 'references-graph'
    : 'registration';
}

function isItemPath(line: string, storeDir: string): boolean {
  try {
    return parseStorePath(line, storeDir).path === line;
  } catch {
    return false;
  }
}

function cut(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

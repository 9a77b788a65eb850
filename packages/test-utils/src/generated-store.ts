import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A store of many small items written under a root folder and registered with Nix. */
export interface GeneratedStore {
  /** Folder that contains the store, as in Nix's `local?root=DIR`. */
  root: string;
  /** Store directory of the items: `/nix/store`. */
  storeDir: string;
  /** Store URI for `nix-store --store URI`. */
  storeUri: string;
  /** Store database, `<root>/nix/var/nix/db/db.sqlite`. */
  dbPath: string;
  /** The item whose closure contains every item but the unreachable ones. */
  rootItem: string;
  /** Every item of the store, sorted. */
  items: string[];
  /** The references of each item, sorted, as registered. */
  references: Map<string, string[]>;
  /** Items that refer to others but that nothing refers to, so they are outside the closure. */
  unreachable: string[];
  /** The registration fed to `nix-store --load-db`: path, NAR hash, NAR size, deriver, references. */
  registration: string;
}

type Node =
  | { type: 'regular'; contents: Buffer; executable: boolean }
  | { type: 'symlink'; target: string }
  | { type: 'directory'; entries: Map<string, Node> };

const alphabet = '0123456789abcdfghijklmnpqrsvwxyz';
const storeDir = '/nix/store';

/**
 * Writes `count` items (at least 100) as folders under `<root>/nix/store` and registers them with
 * `nix-store --store local?root=ROOT --load-db`. The reference graph has a deep chain, a wide fan
 * of items that refer to nothing, self-references, random shared references and a few
 * unreachable items. References appear in file contents, symlink targets and file names, so a
 * scan finds exactly the registered ones. The same `count` and `seed` give the same store.
 */
export async function generateStore(options: {
  root: string;
  count: number;
  seed?: number;
}): Promise<GeneratedStore> {
  const { root, count } = options;
  const random = mulberry32(options.seed ?? 1);
  const paths = Array.from({ length: count }, (_, index) => {
    const digest = createHash('sha256')
      .update(`storepack-generated-${options.seed ?? 1}-${index}`)
      .digest();
    const hashPart = [...digest.subarray(0, 32)].map((byte) => alphabet[byte % 32]).join('');
    return `${storeDir}/${hashPart}-gen-${String(index).padStart(5, '0')}`;
  });
  const references = buildGraph(count, random).map((targets) =>
    [...targets].map((target) => paths[target] as string),
  );

  mkdirSync(path.join(root, storeDir), { recursive: true });
  let registration = '';
  for (let index = 0; index < count; index += 1) {
    const item = paths[index] as string;
    const itemReferences = references[index] as string[];
    const node = itemContents(index, itemReferences, random);
    writeNode(path.join(root, item), node);

    const nar = serialise(node);
    const sorted = [...itemReferences].sort();
    registration += `${item}\n${createHash('sha256').update(nar).digest('hex')}\n${nar.length}\n\n`;
    registration += `${sorted.length}\n${sorted.map((reference) => `${reference}\n`).join('')}`;
  }

  const storeUri = `local?root=${root}`;
  await loadDatabase(storeUri, registration);

  const unreachableCount = Math.max(5, Math.floor(count / 50));
  return {
    root,
    storeDir,
    storeUri,
    dbPath: path.join(root, 'nix/var/nix/db/db.sqlite'),
    rootItem: paths[0] as string,
    items: [...paths].sort(),
    references: new Map(
      paths.map((item, index) => [item, [...(references[index] as string[])].sort()]),
    ),
    unreachable: paths.slice(count - unreachableCount).sort(),
    registration,
  };
}

/**
 * Returns each item's references as indices. Item 0 is the root: it starts a chain, a fan and a
 * random tree over the rest. Edges only go to items that cannot reach back, so the only cycles
 * are self-references, as in a real store.
 */
function buildGraph(count: number, random: () => number): Set<number>[] {
  if (count < 100) {
    throw new Error(`generating a store: expected at least 100 items, got ${count}`);
  }
  const graph = Array.from({ length: count }, () => new Set<number>());
  const unreachable = Math.max(5, Math.floor(count / 50));
  const reachable = count - unreachable;
  const chainEnd = Math.min(500, Math.floor(reachable / 4));
  const fanHub = chainEnd + 1;
  const fanEnd = fanHub + Math.floor(reachable / 4);
  const pick = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));

  // A deep chain 0 → 1 → … → chainEnd, and a hub that refers to every leaf of the fan.
  for (let index = 0; index < chainEnd; index += 1) {
    graph[index]?.add(index + 1);
  }
  graph[0]?.add(fanHub);
  for (let leaf = fanHub + 1; leaf <= fanEnd; leaf += 1) {
    graph[fanHub]?.add(leaf);
  }

  // A random tree over the rest, with extra references forward and into the chain and the fan,
  // which reach nothing of the rest.
  graph[0]?.add(fanEnd + 1);
  for (let index = fanEnd + 2; index < reachable; index += 1) {
    graph[pick(fanEnd + 1, index - 1)]?.add(index);
  }
  for (let index = fanEnd + 1; index < reachable; index += 1) {
    const extra = pick(0, 3);
    for (let edge = 0; edge < extra; edge += 1) {
      const target = edge % 2 === 0 ? pick(index, reachable - 1) : pick(1, fanEnd);
      if (target !== index) {
        graph[index]?.add(target);
      }
    }
  }
  for (let index = reachable; index < count; index += 1) {
    graph[index]?.add(pick(1, reachable - 1));
  }

  // Self-references on every seventh item, fan leaves included.
  for (let index = 3; index < count; index += 7) {
    graph[index]?.add(index);
  }
  return graph;
}

/** Puts the references of item `index` in a file, a symlink target and a file name, by turns. */
function itemContents(index: number, references: string[], random: () => number): Node {
  const entries = new Map<string, Node>();
  const inFile: string[] = [];
  references.forEach((reference, position) => {
    const place = (index + position) % 3;
    if (place === 1 && !entries.has('link')) {
      entries.set('link', { type: 'symlink', target: `${reference}/bin/tool` });
    } else if (place === 2) {
      const share = (entries.get('share') as Extract<Node, { type: 'directory' }> | undefined) ?? {
        type: 'directory',
        entries: new Map(),
      };
      share.entries.set(path.basename(reference), {
        type: 'regular',
        contents: Buffer.alloc(0),
        executable: false,
      });
      entries.set('share', share);
    } else {
      inFile.push(reference);
    }
  });

  const noise = Buffer.from(
    Array.from({ length: 64 + (index % 200) }, () => Math.floor(random() * 256)),
  );
  const text = `item ${index}\n${inFile.map((reference) => `${reference}/lib\n`).join('')}`;
  entries.set('data', {
    type: 'regular',
    contents: Buffer.concat([Buffer.from(text), noise]),
    executable: index % 4 === 0,
  });
  return { type: 'directory', entries };
}

function writeNode(file: string, node: Node): void {
  if (node.type === 'regular') {
    writeFileSync(file, node.contents);
    chmodSync(file, node.executable ? 0o555 : 0o444);
  } else if (node.type === 'symlink') {
    symlinkSync(node.target, file);
  } else {
    mkdirSync(file);
    for (const [name, child] of node.entries) {
      writeNode(path.join(file, name), child);
    }
  }
}

/** Serialises a node as a NAR (the format of `nix-store --dump`), entries sorted by name. */
function serialise(node: Node): Buffer {
  const parts: Buffer[] = [];
  const string = (value: Buffer | string) => {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(bytes.length));
    parts.push(length, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8));
  };
  const write = (current: Node) => {
    string('(');
    string('type');
    if (current.type === 'regular') {
      string('regular');
      if (current.executable) {
        string('executable');
        string('');
      }
      string('contents');
      string(current.contents);
    } else if (current.type === 'symlink') {
      string('symlink');
      string('target');
      string(current.target);
    } else {
      string('directory');
      for (const name of [...current.entries.keys()].sort()) {
        string('entry');
        string('(');
        string('name');
        string(name);
        string('node');
        write(current.entries.get(name) as Node);
        string(')');
      }
    }
    string(')');
  };
  string('nix-archive-1');
  write(node);
  return Buffer.concat(parts);
}

function loadDatabase(storeUri: string, registration: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'nix-store',
      ['--store', storeUri, '--load-db'],
      (error, _stdout, stderr) => {
        if (error) {
          reject(
            new Error(`nix-store --store ${storeUri} --load-db failed: ${stderr.trim()}`, {
              cause: error,
            }),
          );
        } else {
          resolve();
        }
      },
    );
    child.stdin?.end(registration);
  });
}

/** A small seeded generator of numbers in [0, 1), so that a seed always gives the same store. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

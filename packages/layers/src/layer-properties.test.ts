// Property tests: fast-check generates store items (names of any bytes, sizes around the 512-byte
// tar block, modes, empty folders, symlinks and hard links), prepareLayer writes the layer and GNU
// tar reads it back. The seed is fixed so that every run checks the same cases, and a failure
// prints the seed and path that replay it. STOREPACK_PROPERTY_SEED=<integer> explores other cases.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import {
  chmod,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError, prepareLayer } from './index.js';
import { makeTempDir, removeTree } from './layer-fixtures.js';

const execFileAsync = promisify(execFile);

const SEED = Number(process.env.STOREPACK_PROPERTY_SEED ?? 20_250_101);
const NUM_RUNS = 60;

/** Largest file name Linux takes, in bytes. */
const NAME_MAX = 255;

/** Largest symlink target Linux takes, in bytes: PATH_MAX less the final NUL. */
const TARGET_MAX = 4095;

/** Bound on the bytes below an item's folder, so that every disk path stays under PATH_MAX. */
const ITEM_PATH_BUDGET = 3000;

/** A generated file system node. Names and symlink targets are raw bytes. */
type TreeNode =
  | { kind: 'file'; size: number; fill: number; mode: number }
  | { kind: 'folder'; mode: number; children: TreeChild[] }
  | { kind: 'symlink'; target: Uint8Array }
  | { kind: 'hardlink'; pick: number }
  | { kind: 'special'; type: 'fifo' | 'socket' };

/** A named child of a generated folder. */
interface TreeChild {
  name: Uint8Array;
  node: TreeNode;
}

/** A generated store item: its base name, such as `<hash>-hello`, and what it is. */
interface ItemSpec {
  baseName: string;
  node: TreeNode;
}

/** An entry as the layer must carry it, in archive order. */
interface ExpectedEntry {
  name: Buffer;
  type: 'directory' | 'file' | 'symlink';
  mode: number;
  content?: Buffer;
  target?: Buffer;
}

/** An entry as GNU tar lists it. */
interface ListedEntry {
  modeString: string;
  owner: string;
  seconds: number;
  name: Buffer;
  target?: Buffer;
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Replaces the two bytes a file name cannot hold, and the names `.` and `..`, with `_`. */
function toFileName(bytes: Uint8Array): Uint8Array {
  const name = Buffer.from(
    bytes.subarray(0, NAME_MAX).map((byte) => (byte === 0 || byte === 0x2f ? 0x5f : byte)),
  );
  if (name.length === 0) {
    return Buffer.from('_');
  }
  const text = name.toString('latin1');
  return text === '.' || text === '..' ? Buffer.from(`${text}_`) : name;
}

/** Names GNU tar or a shell could misread: options, globs, escapes, PAX words, Unicode forms. */
const TRICKY_NAMES = [
  '-',
  '--help',
  '-rf',
  ' ',
  ' leading and trailing ',
  '\n',
  'line\nbreak',
  'tab\there',
  '\\',
  '\\n',
  'back\\slash',
  '*',
  '?',
  '[a-z]',
  '~',
  '.hidden',
  'dot.',
  '...',
  '\x7f',
  '\x1b[31mred',
  'PaxHeader',
  '././@LongLink',
  'ustar',
  'name -> target',
  'name link to other',
  "'quoted'",
  '"double"',
  'caf\u00e9',
  'cafe\u0301',
  '\ufeffbom',
  'stra\u00dfe',
  '\u65e5\u672c\u8a9e',
  '\u{1f600}',
  '\u202eright-to-left',
];

const fileNameArb: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    { arbitrary: fc.constantFrom(...TRICKY_NAMES).map((name) => Buffer.from(name)), weight: 2 },
    {
      arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
      weight: 3,
    },
    { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }), weight: 2 },
    // Any bytes: most of these are not valid UTF-8.
    { arbitrary: fc.uint8Array({ min: 1, max: 255, minLength: 1, maxLength: 40 }), weight: 2 },
    // Long names, up to NAME_MAX, around the 100-byte ustar name field.
    {
      arbitrary: fc
        .tuple(fc.integer({ min: 90, max: NAME_MAX }), fc.string({ minLength: 1, maxLength: 3 }))
        .map(([length, pattern]) => Buffer.from(pattern.repeat(length)).subarray(0, length)),
      weight: 1,
    },
  )
  .map((name) => toFileName(typeof name === 'string' ? Buffer.from(name) : name));

/** Sizes at the edges of a 512-byte tar block, and a few past 256 KiB. */
const sizeArb = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, 511, 512, 513, 1023, 1024, 1025), weight: 6 },
  { arbitrary: fc.integer({ min: 0, max: 20_000 }), weight: 3 },
  { arbitrary: fc.constantFrom(256 * 1024, 256 * 1024 + 1, 300_001), weight: 1 },
);

/** Any permission bits, setuid, setgid and sticky included. */
const modeArb = fc.integer({ min: 0, max: 0o7777 });

const symlinkTargetArb: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    // Relative, pointing anywhere in or out of the item, often dangling.
    fc
      .array(
        fc.oneof(
          fc.constantFrom('..', '.').map((part) => Buffer.from(part)),
          fileNameArb,
        ),
        { minLength: 1, maxLength: 6 },
      )
      .map((parts) =>
        Buffer.concat(parts.flatMap((part, index) => [Buffer.from(index ? '/' : ''), part])),
      ),
    // Absolute, inside or outside the store.
    fc
      .tuple(fc.constantFrom('/nix/store/', '/gnu/store/', '/', '/etc/'), fileNameArb)
      .map(([folder, name]) => Buffer.concat([Buffer.from(folder), name])),
    // Long targets, up to the Linux limit.
    fc
      .tuple(
        fc.integer({ min: 90, max: TARGET_MAX }),
        fc.uint8Array({ min: 1, max: 255, minLength: 1, maxLength: 8 }),
      )
      .map(([length, pattern]) =>
        Buffer.from(Buffer.from(pattern).toString('latin1').repeat(length), 'latin1').subarray(
          0,
          length,
        ),
      ),
  )
  .map((target) => Buffer.from(target).map((byte) => (byte === 0 ? 0x5f : byte)));

const leafArb: fc.Arbitrary<TreeNode> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('file'),
      size: sizeArb,
      fill: fc.nat(255),
      mode: modeArb,
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ kind: fc.constant('symlink'), target: symlinkTargetArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('hardlink'), pick: fc.nat() }), weight: 1 },
  // An empty folder.
  {
    arbitrary: fc.record({ kind: fc.constant('folder'), mode: modeArb, children: fc.constant([]) }),
    weight: 1,
  },
) as fc.Arbitrary<TreeNode>;

function childrenArb(node: fc.Arbitrary<TreeNode>, maxLength: number): fc.Arbitrary<TreeChild[]> {
  return fc.uniqueArray(fc.record({ name: fileNameArb, node }), {
    maxLength,
    selector: (child) => Buffer.from(child.name).toString('hex'),
  });
}

/** A tree of at most `depth` folder levels below the node. */
const treeArb: fc.Memo<TreeNode> = fc.memo((depth) =>
  depth <= 1
    ? leafArb
    : fc.oneof(
        { arbitrary: leafArb, weight: 2 },
        {
          arbitrary: fc.record({
            kind: fc.constant('folder' as const),
            mode: modeArb,
            children: childrenArb(treeArb(depth - 1), 5),
          }),
          weight: 3,
        },
      ),
);

/** A chain of folders with short names, many levels deep, that ends in a file. */
const deepChainArb: fc.Arbitrary<TreeChild> = fc
  .tuple(fc.array(fileNameArb, { minLength: 20, maxLength: 80 }), modeArb, fc.nat(255))
  .map(([names, mode, fill]) => {
    let node: TreeNode = { kind: 'file', size: 3, fill, mode };
    let used = 0;
    const kept = names.filter((name) => {
      used += name.length + 1;
      return used < ITEM_PATH_BUDGET;
    });
    for (const name of kept.slice(1).reverse()) {
      node = { kind: 'folder', mode, children: [{ name, node }] };
    }
    return {
      name: Buffer.concat([Buffer.from('deep-'), kept[0] ?? Buffer.from('x')]).subarray(
        0,
        NAME_MAX,
      ),
      node,
    };
  });

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

const baseNameArb = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...NIX_BASE32), minLength: 32, maxLength: 32 }),
    fc.string({
      unit: fc.constantFrom(
        ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=',
      ),
      minLength: 1,
      maxLength: 40,
    }),
  )
  .map(([hash, name]) => `${hash}-${name === '.' || name === '..' ? `${name}x` : name}`);

/** An item's root: mostly a folder, sometimes a single file or a symlink, as in a real store. */
const itemNodeArb: fc.Arbitrary<TreeNode> = fc.oneof(
  {
    arbitrary: fc
      .tuple(modeArb, childrenArb(treeArb(4), 6), fc.option(deepChainArb, { freq: 4 }))
      .map(([mode, children, deep]): TreeNode => {
        const all =
          deep === null || children.some((child) => Buffer.compare(child.name, deep.name) === 0)
            ? children
            : [...children, deep];
        return { kind: 'folder', mode, children: all };
      }),
    weight: 6,
  },
  { arbitrary: leafArb.filter((node) => node.kind !== 'hardlink'), weight: 1 },
);

const itemsArb: fc.Arbitrary<ItemSpec[]> = fc.uniqueArray(
  fc.record({ baseName: baseNameArb, node: itemNodeArb }),
  { minLength: 1, maxLength: 3, selector: (item) => item.baseName },
);

/** Timestamps that disks and GNU tar both hold: up to 2^33 seconds, the year 2242. */
const mtimeArb = fc.oneof(fc.constant(1), fc.constant(0), fc.integer({ min: 0, max: 2 ** 33 }));

/** Archive name lengths around the ustar limits: a 100-byte name, a 155-byte prefix, 256 in all. */
const BOUNDARY_LENGTHS = [99, 100, 101, 154, 155, 156, 157, 255, 256, 257, 258, 355, 356];

/** Base name of the item that contains a boundary path: `nix/store/<hash>-b/` is 45 bytes. */
const BOUNDARY_ITEM = `${'0'.repeat(32)}-b`;
const BOUNDARY_PREFIX_LENGTH = `nix/store/${BOUNDARY_ITEM}/`.length;

/**
 * One item holding a file, folder or symlink whose archive name has exactly one of the boundary
 * lengths, cut into folders at generated places, with a symlink target of a boundary length.
 */
const boundaryItemArb: fc.Arbitrary<ItemSpec> = fc
  .record({
    length: fc.constantFrom(...BOUNDARY_LENGTHS),
    kind: fc.constantFrom('file', 'folder', 'symlink'),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 320 }), { maxLength: 6 }),
    letter: fc.constantFrom('a', 'Z', '0', '-', '_', '~', ' '),
    targetLength: fc.constantFrom(1, 99, 100, 101, 255, 256, 1023, 1024, TARGET_MAX),
  })
  .map(({ length, kind, cuts, letter, targetLength }): ItemSpec => {
    // A folder's archive name ends with the `/` that tar adds.
    const restLength = length - BOUNDARY_PREFIX_LENGTH - (kind === 'folder' ? 1 : 0);
    const slashes = new Set<number>();
    let last = -2;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      if (cut > 0 && cut < restLength - 1 && cut > last + 1) {
        slashes.add(cut);
        last = cut;
      }
    }
    // No component may pass NAME_MAX.
    let start = 0;
    for (let index = 0; index <= restLength; index++) {
      if (index === restLength || slashes.has(index)) {
        if (index - start > NAME_MAX) {
          slashes.add(start + NAME_MAX);
        }
        start = index + 1;
      }
    }
    const rest = Array.from({ length: restLength }, (_, index) =>
      slashes.has(index) ? '/' : letter,
    ).join('');
    const names = rest.split('/').map((name) => Buffer.from(name));

    const target = Buffer.from(
      't/'.repeat(targetLength).slice(0, targetLength).replace(/\/$/, 'u'),
    );
    const leaf: TreeNode =
      kind === 'file'
        ? { kind: 'file', size: 513, fill: 7, mode: 0o644 }
        : kind === 'folder'
          ? { kind: 'folder', mode: 0o755, children: [] }
          : { kind: 'symlink', target };
    let node = leaf;
    for (const name of names.slice(1).reverse()) {
      node = { kind: 'folder', mode: 0o755, children: [{ name, node }] };
    }
    return {
      baseName: BOUNDARY_ITEM,
      node: { kind: 'folder', mode: 0o755, children: [{ name: names[0] as Buffer, node }] },
    };
  });

/** Items with a FIFO or a unix socket in one of their folders, which no store item can hold. */
const itemsWithSpecialArb = fc
  .tuple(itemsArb, fc.constantFrom('fifo' as const, 'socket' as const), fileNameArb, fc.nat())
  .map(([items, type, name, pick]) => {
    const copy = structuredClone(items);
    const folders: TreeChild[][] = [];
    const visit = (node: TreeNode) => {
      if (node.kind === 'folder') {
        folders.push(node.children);
        for (const child of node.children) {
          visit(child.node);
        }
      }
    };
    for (const item of copy) {
      visit(item.node);
    }
    const special: TreeNode = { kind: 'special', type };
    const children = folders[pick % Math.max(folders.length, 1)];
    if (children === undefined) {
      // No item is a folder: the first becomes one that holds only the special file.
      (copy[0] as ItemSpec).node = {
        kind: 'folder',
        mode: 0o755,
        children: [{ name, node: special }],
      };
      return copy;
    }
    const same = children.findIndex((child) => Buffer.compare(child.name, name) === 0);
    if (same === -1) {
      children.push({ name, node: special });
    } else {
      (children[same] as TreeChild).node = special;
    }
    return copy;
  });

// ---------------------------------------------------------------------------------------------
// Writing a generated store and what its layer must hold

function joinBytes(parent: Uint8Array, name: Uint8Array): Buffer {
  return Buffer.concat([parent, Buffer.from('/'), name]);
}

/** The bytes of a generated file: a pattern that differs between neighbouring blocks. */
function fileContent(size: number, fill: number): Buffer {
  const content = Buffer.alloc(size);
  for (let index = 0; index < size; index++) {
    content[index] = (fill + index * 31 + (index >> 9)) & 0xff;
  }
  return content;
}

/** Makes a FIFO or a unix socket at a path given as bytes. */
async function makeSpecialFile(
  scratch: string,
  path: Buffer,
  type: 'fifo' | 'socket',
): Promise<void> {
  // mkfifo and net take string paths, so the file is made under an ASCII name, then renamed.
  const temporary = join(scratch, `special-${type}`);
  if (type === 'fifo') {
    await execFileAsync('mkfifo', [temporary]);
  } else {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(temporary, resolve);
    });
    await rename(temporary, path);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return;
  }
  await rename(temporary, path);
}

/**
 * Writes the items under `root` and returns what the layer must hold, in archive order: the
 * store folders, then each item depth first, siblings sorted by the bytes of their names.
 */
async function writeStore(
  root: string,
  scratch: string,
  items: readonly ItemSpec[],
): Promise<{ expected: ExpectedEntry[]; specialPaths: Buffer[] }> {
  const store = join(root, 'nix/store');
  await mkdir(store, { recursive: true });

  const files: { path: Buffer; content: Buffer; mode: number }[] = [];
  const hardlinks: { path: Buffer; entry: ExpectedEntry; pick: number }[] = [];
  const folders: { path: Buffer; mode: number }[] = [];
  const specialPaths: Buffer[] = [];
  const expected: ExpectedEntry[] = [
    { name: Buffer.from('nix/'), type: 'directory', mode: 0o555 },
    { name: Buffer.from('nix/store/'), type: 'directory', mode: 0o555 },
  ];

  async function write(path: Buffer, name: Buffer, node: TreeNode): Promise<void> {
    switch (node.kind) {
      case 'file': {
        const content = fileContent(node.size, node.fill);
        await writeFile(path, content);
        await chmod(path, node.mode);
        files.push({ path, content, mode: node.mode });
        expected.push({ name, type: 'file', mode: storeMode(node.mode), content });
        return;
      }
      case 'symlink': {
        await symlink(Buffer.from(node.target), path);
        expected.push({ name, type: 'symlink', mode: 0o777, target: Buffer.from(node.target) });
        return;
      }
      case 'hardlink': {
        // Filled in once every regular file exists.
        const entry: ExpectedEntry = { name, type: 'file', mode: 0, content: Buffer.alloc(0) };
        expected.push(entry);
        hardlinks.push({ path, entry, pick: node.pick });
        return;
      }
      case 'special': {
        await makeSpecialFile(scratch, path, node.type);
        specialPaths.push(path);
        return;
      }
      case 'folder': {
        await mkdir(path);
        folders.push({ path, mode: node.mode });
        expected.push({
          name: Buffer.concat([name, Buffer.from('/')]),
          type: 'directory',
          mode: 0o555,
        });
        const sorted = [...node.children].sort((a, b) => Buffer.compare(a.name, b.name));
        for (const child of sorted) {
          await write(joinBytes(path, child.name), joinBytes(name, child.name), child.node);
        }
        return;
      }
    }
  }

  const sorted = [...items].sort((a, b) =>
    Buffer.compare(Buffer.from(a.baseName), Buffer.from(b.baseName)),
  );
  for (const item of sorted) {
    await write(
      Buffer.from(join(store, item.baseName)),
      Buffer.from(`nix/store/${item.baseName}`),
      item.node,
    );
  }

  for (const hardlink of hardlinks) {
    const target = files[hardlink.pick % Math.max(files.length, 1)];
    if (target === undefined) {
      // No regular file to link to: the node is an empty file of its own.
      await writeFile(hardlink.path, '');
      await chmod(hardlink.path, 0o644);
      hardlink.entry.mode = 0o444;
      continue;
    }
    await link(target.path, hardlink.path);
    hardlink.entry.mode = storeMode(target.mode);
    hardlink.entry.content = target.content;
  }

  // Folder modes go last, deepest first, so that a folder without write permission is complete.
  for (const folder of folders.reverse()) {
    await chmod(folder.path, folder.mode);
  }
  return { expected, specialPaths };
}

/** Normalises a file mode as the store does: 0555 when any execute bit is set, else 0444. */
function storeMode(mode: number): number {
  return (mode & 0o111) === 0 ? 0o444 : 0o555;
}

// ---------------------------------------------------------------------------------------------
// Reading the layer back with GNU tar

/** Renders bytes with every byte outside printable ASCII, and `\`, as `\xNN`; one-to-one. */
function showBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) =>
    byte >= 0x20 && byte < 0x7f && byte !== 0x5c
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, '0')}`,
  ).join('');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Renders a disk path as a LayerError names it: valid UTF-8 as it is, else bytes outside printable ASCII as `\xNN`. */
function displayPath(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return Array.from(bytes, (byte) =>
      byte >= 0x20 && byte < 0x7f
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`,
    ).join('');
  }
}

const C_ESCAPES: Record<string, number> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '\\': 0x5c,
  '"': 0x22,
  "'": 0x27,
  '?': 0x3f,
};

/** Decodes one C-quoted string of `--quoting-style=c` starting at `start`; returns it and its end. */
function decodeCQuoted(line: string, start: number): { bytes: Buffer; end: number } {
  if (line[start] !== '"') {
    throw new Error(`expected a quoted name at column ${start} of: ${line}`);
  }
  const bytes: number[] = [];
  let index = start + 1;
  while (line[index] !== '"') {
    const char = line[index];
    if (char === undefined) {
      throw new Error(`unterminated quoted name in: ${line}`);
    }
    if (char !== '\\') {
      bytes.push(char.charCodeAt(0));
      index += 1;
      continue;
    }
    const octal = /^[0-7]{1,3}/.exec(line.slice(index + 1, index + 4));
    if (octal !== null) {
      bytes.push(Number.parseInt(octal[0], 8));
      index += 1 + octal[0].length;
      continue;
    }
    const escaped = C_ESCAPES[line[index + 1] ?? ''];
    if (escaped === undefined) {
      throw new Error(`unknown escape at column ${index} of: ${line}`);
    }
    bytes.push(escaped);
    index += 2;
  }
  return { bytes: Buffer.from(bytes), end: index + 1 };
}

const HDRCHARSET_WARNING = "Ignoring unknown extended header keyword 'hdrcharset'";

/** Runs GNU tar with the given locale; fails when it exits non-zero or writes to stderr. */
async function tar(args: string[], locale: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync('tar', args, {
    env: { ...process.env, TZ: 'UTC', LC_ALL: locale },
    encoding: 'latin1',
    maxBuffer: 256 * 1024 * 1024,
  });
  // NOTE: GNU tar 1.34 does not know the PAX keyword `hdrcharset` that marks a name as raw bytes:
  // it warns once per such entry and then takes the bytes as they are, which the checks below
  // compare. Only that warning is let through.
  const unexpected = stderr
    .split('\n')
    .filter((line) => line !== '' && !line.includes(HDRCHARSET_WARNING));
  expect(unexpected, `stderr of tar ${args.join(' ')}`).toEqual([]);
  return stdout;
}

type SixNumbers = [number, number, number, number, number, number];

/**
 * Converts a UTC calendar time to seconds since the epoch for any year, where Date.UTC stops at
 * the year 275760: the days-from-civil algorithm of the proleptic Gregorian calendar.
 */
function secondsSinceEpoch(...[year, month, day, hour, minute, second]: SixNumbers): number {
  const shiftedYear = month <= 2 ? year - 1 : year;
  const era = Math.floor(shiftedYear / 400);
  const yearOfEra = shiftedYear - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146_097 + dayOfEra - 719_468;
  return days * 86_400 + hour * 3600 + minute * 60 + second;
}

/**
 * Lists an archive in archive order. In the C locale with C quoting, GNU tar writes every byte
 * outside printable ASCII as an escape, so names and targets come back byte for byte.
 */
async function listArchive(archive: string): Promise<ListedEntry[]> {
  const output = await tar(
    ['-tvf', archive, '--numeric-owner', '--full-time', '--utc', '--quoting-style=c'],
    'C',
  );
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match =
        /^(\S{10}) (\d+\/\d+) +\d+ (?:(-?\d+)-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)|(-?\d+)) /.exec(
          line,
        );
      if (match === null) {
        throw new Error(`unexpected tar listing line: ${line}`);
      }
      const [, modeString = '', owner = '', ...time] = match;
      // GNU tar prints a time it cannot convert as the number of seconds.
      const seconds =
        time[6] === undefined
          ? secondsSinceEpoch(...(time.slice(0, 6).map(Number) as SixNumbers))
          : Number(time[6]);
      const name = decodeCQuoted(line, match[0].length);
      const rest = line.slice(name.end);
      if (rest === '') {
        return { modeString, owner, seconds, name: name.bytes };
      }
      const separator = rest.startsWith(' -> ') ? ' -> ' : ' link to ';
      const target = decodeCQuoted(line, name.end + separator.length);
      return { modeString, owner, seconds, name: name.bytes, target: target.bytes };
    });
}

/** Reads an extracted tree back as entries in archive order, with contents and targets. */
async function readTree(folder: string): Promise<ExpectedEntry[]> {
  const entries: ExpectedEntry[] = [];
  async function visit(path: Buffer, name: Buffer | undefined): Promise<void> {
    const children = (await readdir(path, { encoding: 'buffer' })).sort(Buffer.compare);
    for (const child of children) {
      const childPath = joinBytes(path, child);
      const childName = name === undefined ? Buffer.from(child) : joinBytes(name, child);
      const stats = await lstat(childPath);
      const mode = stats.mode & 0o7777;
      if (stats.isDirectory()) {
        entries.push({
          name: Buffer.concat([childName, Buffer.from('/')]),
          type: 'directory',
          mode,
        });
        await visit(childPath, childName);
      } else if (stats.isSymbolicLink()) {
        const target = await readlink(childPath, { encoding: 'buffer' });
        entries.push({ name: childName, type: 'symlink', mode: 0o777, target });
      } else if (stats.isFile()) {
        entries.push({ name: childName, type: 'file', mode, content: await readFile(childPath) });
      } else {
        throw new Error(
          `unexpected file type at ${showBytes(childName)}: mode ${stats.mode.toString(8)}`,
        );
      }
    }
  }
  await visit(Buffer.from(folder), undefined);
  return entries;
}

/** Shows entries with readable names, so that a failing comparison points at the entry. */
function describeEntries(entries: readonly ExpectedEntry[]) {
  return entries.map((entry) => ({
    name: showBytes(entry.name),
    type: entry.type,
    mode: entry.mode.toString(8),
    ...(entry.content === undefined ? {} : { content: entry.content.toString('hex') }),
    ...(entry.target === undefined ? {} : { target: showBytes(entry.target) }),
  }));
}

const MODE_STRINGS: Record<string, string> = {
  'directory 555': 'dr-xr-xr-x',
  'file 444': '-r--r--r--',
  'file 555': '-r-xr-xr-x',
  'symlink 777': 'lrwxrwxrwx',
};

/**
 * Builds the layer of `items` (already written under `root`), writes it to `archive`, and checks
 * it against `expected`: the exact size and entry count, GNU tar's listing of every header in
 * order, and the tree GNU tar extracts.
 */
async function checkLayer(
  root: string,
  work: string,
  items: readonly ItemSpec[],
  mtime: number,
  expected: readonly ExpectedEntry[],
): Promise<void> {
  const layer = await prepareLayer({
    storeDir: '/nix/store',
    storePaths: items.map((item) => `/nix/store/${item.baseName}`),
    root,
    mtime,
  });
  const archive = join(work, 'layer.tar');
  await pipeline(layer.createStream(), createWriteStream(archive));
  expect((await stat(archive)).size, 'layer size').toBe(layer.size);
  expect(layer.entryCount, 'entry count').toBe(expected.length);

  const listed = await listArchive(archive);
  expect(
    listed.map((entry) => showBytes(entry.name)),
    'listed names in order',
  ).toEqual(expected.map((entry) => showBytes(entry.name)));
  for (const [index, entry] of listed.entries()) {
    const want = expected[index] as ExpectedEntry;
    const where = showBytes(entry.name);
    expect(entry.modeString, `mode of ${where}`).toBe(
      MODE_STRINGS[`${want.type} ${want.mode.toString(8)}`],
    );
    expect(entry.owner, `owner of ${where}`).toBe('0/0');
    expect(entry.seconds, `mtime of ${where}`).toBe(mtime);
    expect(entry.target && showBytes(entry.target), `target of ${where}`).toBe(
      want.target && showBytes(want.target),
    );
  }

  const out = join(work, 'out');
  await mkdir(out);
  await tar(['-xpf', archive, '-C', out, '--numeric-owner', '--warning=no-timestamp'], 'C.UTF-8');
  const extracted = await readTree(out);
  expect(describeEntries(extracted)).toEqual(describeEntries(expected));
  for (const entry of extracted) {
    if (entry.type !== 'symlink') {
      const stats = await lstat(joinBytes(Buffer.from(out), entry.name));
      expect(Math.floor(stats.mtimeMs / 1000), `extracted mtime of ${showBytes(entry.name)}`).toBe(
        mtime,
      );
    }
  }
}

/** The last second a JavaScript Date holds: 8.64e15 ms after the epoch, in the year 275760. */
const DATE_MAX_SECONDS = 8.64e12;

/**
 * An item with a plain name, a name over 100 bytes and a name that is not UTF-8, so that ustar
 * headers and both kinds of PAX header carry the time.
 */
const TIMES_ITEMS: ItemSpec[] = [
  {
    baseName: `${'2'.repeat(32)}-times`,
    node: {
      kind: 'folder',
      mode: 0o755,
      children: [
        { name: Buffer.from('plain'), node: { kind: 'file', size: 1, fill: 0, mode: 0o644 } },
        {
          name: Buffer.from('l'.repeat(120)),
          node: { kind: 'symlink', target: Buffer.from('plain') },
        },
        { name: Buffer.from([0xff, 0x41]), node: { kind: 'file', size: 0, fill: 0, mode: 0o755 } },
      ],
    },
  },
];

/**
 * Builds the layer of TIMES_ITEMS (written under `root`) with `mtime` and checks that GNU tar lists
 * every entry at that time, or that prepareLayer rejects the time as INVALID_SOURCE.
 */
async function checkMtime(root: string, work: string, mtime: number): Promise<void> {
  let layer: Awaited<ReturnType<typeof prepareLayer>>;
  try {
    layer = await prepareLayer({
      storeDir: '/nix/store',
      storePaths: TIMES_ITEMS.map((item) => `/nix/store/${item.baseName}`),
      root,
      mtime,
    });
  } catch (error) {
    // Rejecting a time that the layer cannot carry is allowed; writing another one is not.
    expect(error).toBeInstanceOf(LayerError);
    expect((error as LayerError).code).toBe('INVALID_SOURCE');
    return;
  }
  const archive = join(work, 'layer.tar');
  await pipeline(layer.createStream(), createWriteStream(archive));
  const listed = await listArchive(archive);
  expect(listed.length, 'entries: nix, store, item and three children').toBe(6);
  for (const entry of listed) {
    expect(entry.seconds, `mtime of ${showBytes(entry.name)}`).toBe(mtime);
  }
}

// ---------------------------------------------------------------------------------------------

describe('layer properties', () => {
  let base: string;
  let runs = 0;

  /** A fresh folder for one run, with a store root and a work folder in it. */
  async function freshRun(): Promise<{ root: string; work: string }> {
    runs += 1;
    const run = join(base, `run-${runs}`);
    const root = join(run, 'root');
    const work = join(run, 'work');
    await mkdir(root, { recursive: true });
    await mkdir(work);
    return { root, work };
  }

  async function cleanRun(root: string): Promise<void> {
    await removeTree(join(root, '..'));
  }

  beforeAll(async () => {
    base = await makeTempDir();
  });

  afterAll(async () => {
    await removeTree(base);
  });

  it('round-trips generated items through GNU tar', { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(itemsArb, mtimeArb, async (items, mtime) => {
        const { root, work } = await freshRun();
        try {
          const { expected } = await writeStore(root, work, items);
          await checkLayer(root, work, items, mtime, expected);
        } finally {
          await cleanRun(root);
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });
  it('writes names at the ustar field limits', { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(boundaryItemArb, mtimeArb, async (item, mtime) => {
        const { root, work } = await freshRun();
        try {
          const { expected } = await writeStore(root, work, [item]);
          await checkLayer(root, work, [item], mtime, expected);
        } finally {
          await cleanRun(root);
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('rejects FIFOs and sockets with a LayerError', { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(itemsWithSpecialArb, async (items) => {
        const { root, work } = await freshRun();
        try {
          const { specialPaths } = await writeStore(root, work, items);
          const special = specialPaths[0] as Buffer;
          const error = await prepareLayer({
            storeDir: '/nix/store',
            storePaths: items.map((item) => `/nix/store/${item.baseName}`),
            root,
          }).then(
            () => undefined,
            (rejection: unknown) => rejection,
          );
          expect(error).toBeInstanceOf(LayerError);
          expect((error as LayerError).code).toBe('UNSUPPORTED_FILE_TYPE');
          expect((error as LayerError).path).toBe(displayPath(special));
          const type = (await lstat(special)).isFIFO() ? 'FIFO' : 'socket';
          expect((error as LayerError).message).toBe(
            `reading ${displayPath(special)}: unsupported file type ${type}: a store item holds only regular files, folders and symlinks`,
          );
        } finally {
          await cleanRun(root);
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('keeps every mtime it accepts', { timeout: 600_000 }, async () => {
    const { root, work } = await freshRun();
    await writeStore(root, work, TIMES_ITEMS);
    const mtimeAnyArb = fc.oneof(
      fc.constantFrom(2 ** 31, 2 ** 33, 8 ** 11 - 1, 8 ** 11, DATE_MAX_SECONDS),
      fc.integer({ min: 0, max: DATE_MAX_SECONDS }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(mtimeAnyArb, (mtime) => checkMtime(root, work, mtime)),
        { seed: SEED, numRuns: NUM_RUNS },
      );
    } finally {
      await cleanRun(root);
    }
  });

  it('keeps or rejects an mtime past the Date range', async () => {
    const { root, work } = await freshRun();
    await writeStore(root, work, TIMES_ITEMS);
    try {
      await checkMtime(root, work, DATE_MAX_SECONDS + 1);
    } finally {
      await cleanRun(root);
    }
  });

  it('keeps a long name of a link with a long target', async () => {
    const { root, work } = await freshRun();
    const items: ItemSpec[] = [
      {
        baseName: BOUNDARY_ITEM,
        node: {
          kind: 'folder',
          mode: 0o755,
          children: [
            {
              name: Buffer.from('folder'),
              node: {
                kind: 'folder',
                mode: 0o755,
                children: [
                  {
                    name: Buffer.from('l'.repeat(100)),
                    node: { kind: 'symlink', target: Buffer.from('t'.repeat(101)) },
                  },
                ],
              },
            },
          ],
        },
      },
    ];
    try {
      const { expected } = await writeStore(root, work, items);
      await checkLayer(root, work, items, 1, expected);
    } finally {
      await cleanRun(root);
    }
  });

  it('rejects malformed sources only with a LayerError', { timeout: 600_000 }, async () => {
    const { root } = await freshRun();
    const item = `/nix/store/${'1'.repeat(32)}-present`;
    await mkdir(join(root, item), { recursive: true });
    await writeFile(join(root, item, 'file'), 'content');
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    const sourceArb = fc.record({
      storeDir: fc.oneof(
        fc.constantFrom(
          '/nix/store',
          '/gnu/store',
          '/nix/store/',
          'nix/store',
          '/',
          '/nix//store',
          '/nix/./store',
          '',
        ),
        text,
      ),
      storePaths: fc.array(
        fc.oneof(
          fc.constant(item),
          text.map((name) => `/nix/store/${name}`),
          text,
        ),
        { maxLength: 4 },
      ),
      symlinks: fc.array(fc.record({ path: text, target: text }), { maxLength: 2 }),
      directories: fc.array(fc.record({ path: text, mode: fc.oneof(fc.integer(), fc.double()) }), {
        maxLength: 2,
      }),
      mtime: fc.oneof(fc.integer({ min: -10, max: 2 ** 33 }), fc.double()),
    });

    try {
      await fc.assert(
        fc.asyncProperty(sourceArb, async (source) => {
          let layer: Awaited<ReturnType<typeof prepareLayer>>;
          try {
            layer = await prepareLayer({ ...source, root });
          } catch (error) {
            expect(error, String(error)).toBeInstanceOf(LayerError);
            return;
          }
          let bytes = 0;
          for await (const chunk of layer.createStream()) {
            bytes += (chunk as Buffer).length;
          }
          expect(bytes).toBe(layer.size);
        }),
        { seed: SEED, numRuns: 200 },
      );
    } finally {
      await cleanRun(root);
    }
  });
});

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  buildNixClosure,
  exportReferencesGraph,
  type GeneratedStore,
  generateStore,
  type NixClosureFixture,
  queryReferences,
  queryRequisites,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosureError } from './errors.js';
import { resolveClosure } from './resolve-closure.js';

const execFileAsync = promisify(execFile);

async function nixStore(storeUri: string | undefined, args: string[]): Promise<string> {
  const store = storeUri === undefined ? [] : ['--store', storeUri];
  const { stdout } = await execFileAsync('nix-store', [...store, ...args], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

async function pathInfoJson(storeUri: string | undefined, storePath: string): Promise<string> {
  const store = storeUri === undefined ? [] : ['--store', storeUri];
  const args = ['--extra-experimental-features', 'nix-command', 'path-info', ...store];
  const { stdout } = await execFileAsync('nix', [...args, '--json', '--recursive', storePath], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

/** Rewrites the array form of `nix path-info --json` into the object form that newer Nix prints. */
function toObjectForm(arrayJson: string): string {
  const entries = JSON.parse(arrayJson) as { path: string }[];
  return JSON.stringify(
    Object.fromEntries(entries.map(({ path: storePath, ...info }) => [storePath, info])),
    null,
    2,
  );
}

async function rejection(promise: Promise<unknown>): Promise<ClosureError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ClosureError);
  return error as ClosureError;
}

describe('sources on a generated store of 2,000 items', () => {
  let scratch: string;
  let store: GeneratedStore;
  let requisites: string[];
  let narSizes: Map<string, number>;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'storepack-closure-sources-'));
    store = await generateStore({ root: path.join(scratch, 'root'), count: 2000 });
    requisites = (await nixStore(store.storeUri, ['--query', '--requisites', store.rootItem]))
      .trim()
      .split('\n')
      .sort();

    // NAR sizes as registered: the third line of each registration block.
    narSizes = new Map();
    const lines = store.registration.split('\n');
    for (let index = 0; index < lines.length - 1; ) {
      narSizes.set(lines[index] as string, Number(lines[index + 2]));
      index += 5 + Number(lines[index + 4]);
    }

    // closureInfo's registration file is the output of `nix-store --dump-db` on the closure.
    files.registration = path.join(scratch, 'registration');
    await writeFile(
      files.registration,
      await nixStore(store.storeUri, ['--dump-db', ...requisites]),
    );
    // The exportReferencesGraph format: path, empty deriver, count, references.
    files['references-graph'] = path.join(scratch, 'graph');
    await writeFile(
      files['references-graph'],
      requisites
        .map((item) => {
          const references = store.references.get(item) as string[];
          return `${item}\n\n${references.length}\n${references.map((line) => `${line}\n`).join('')}`;
        })
        .join(''),
    );
    const json = await pathInfoJson(store.storeUri, store.rootItem);
    files['path-info-array'] = path.join(scratch, 'path-info.json');
    await writeFile(files['path-info-array'], json);
    files['path-info-object'] = path.join(scratch, 'path-info-object.json');
    await writeFile(files['path-info-object'], toObjectForm(json));
  }, 120_000);

  afterAll(async () => {
    await execFileAsync('chmod', ['-R', 'u+w', scratch]).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  });

  it('has the store shapes the tests need', () => {
    const references = [...store.references.values()];
    expect(store.items.length).toBe(2000);
    expect(requisites.length).toBeGreaterThan(1900);
    expect(references.filter((list) => list.length === 0).length).toBeGreaterThan(100);
    expect(Math.max(...references.map((list) => list.length))).toBeGreaterThan(400);
    expect(
      [...store.references].filter(([item, list]) => list.includes(item)).length,
    ).toBeGreaterThan(200);
    for (const item of store.unreachable) {
      expect(requisites).not.toContain(item);
    }
  });

  it.each([
    ['db', 'db'],
    ['command', 'command'],
    ['scan', 'scan'],
    ['auto', 'db'],
    ['registration', 'file'],
    ['references-graph', 'file'],
    ['path-info-array', 'file'],
    ['path-info-object', 'file'],
  ])('%s matches nix-store --query', async (name, source) => {
    const from = files[name] ?? name;
    const closure = await resolveClosure([store.rootItem], { from, root: store.root });

    expect(closure.source).toBe(source);
    expect(closure.items.map((item) => item.path)).toEqual(requisites);
    for (const item of closure.items) {
      expect(item.references, item.path).toEqual(store.references.get(item.path));
      if (name !== 'references-graph') {
        expect(item.narSize, item.path).toBe(narSizes.get(item.path));
      }
    }
  });

  it('command rejects unregistered root', async () => {
    const unregistered = `${store.storeDir}/${'1'.repeat(32)}-unregistered`;
    await mkdir(path.join(store.root, unregistered));
    const error = await rejection(
      resolveClosure([unregistered], { from: 'command', root: store.root }),
    );
    expect(error.code).toBe('COMMAND');
    expect(error.message).toContain(`path '${unregistered}' is not valid`);
  });

  it('command rejects store without database', async () => {
    const root = path.join(scratch, 'no-db');
    const item = store.rootItem;
    await mkdir(path.join(root, item), { recursive: true });
    const error = await rejection(resolveClosure([item], { from: 'command', root }));
    expect(error.code).toBe('COMMAND');
    expect(error.message).toBe(
      `reading the closure with nix-store: no store database at ${root}/nix/var/nix/db/db.sqlite, and nix-store would create an empty store there`,
    );
  });

  it('rejects corrupt database', async () => {
    const corrupt = path.join(scratch, 'corrupt.sqlite');
    const bytes = await readFile(store.dbPath);
    await writeFile(corrupt, bytes.subarray(0, 8192));
    const error = await rejection(
      resolveClosure([store.rootItem], { from: 'db', db: corrupt, root: store.root }),
    );
    expect(error.code).toBe('DATABASE');
    expect(error.path).toBe(corrupt);
    expect(error.message).toMatch(new RegExp(`^(opening|reading) store database ${corrupt}: `));
  });

  it('file rejects root it does not list', async () => {
    const other = store.unreachable[0] as string;
    const file = files.registration as string;
    const error = await rejection(resolveClosure([other], { from: file }));
    expect(error.code).toBe('NOT_IN_FILE');
    expect(error.message).toBe(`${other} is not listed in closure file ${file}`);
  });
});

describe.each(['nix', 'guix'] as const)('sources on the %s fixture', (layout) => {
  let fixture: NixClosureFixture;
  let scratch: string;

  beforeAll(async () => {
    fixture = await buildNixClosure({ layout });
    scratch = await mkdtemp(path.join(os.tmpdir(), `storepack-closure-files-${layout}-`));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function expectMatchesNix(from: string, db?: string): Promise<void> {
    const closure = await resolveClosure([fixture.root], { from, ...(db ? { db } : {}) });
    expect(closure.items.map((item) => item.path)).toEqual(
      await queryRequisites(fixture, fixture.root),
    );
    for (const item of closure.items) {
      expect(item.references, item.path).toEqual(await queryReferences(fixture, item.path));
    }
  }

  it('command matches nix-store', async () => {
    await expectMatchesNix('command', fixture.dbPath);
  });

  it('exportReferencesGraph file matches nix-store', async () => {
    const file = path.join(scratch, 'graph');
    await writeFile(file, await exportReferencesGraph(fixture.root, fixture.storeUri));
    await expectMatchesNix(file);
  });

  it('dump-db registration matches nix-store', async () => {
    const file = path.join(scratch, 'registration');
    const items = await queryRequisites(fixture, fixture.root);
    await writeFile(file, await nixStore(fixture.storeUri, ['--dump-db', ...items]));
    await expectMatchesNix(file);
  });

  it('path-info JSON matches nix-store', async () => {
    const file = path.join(scratch, 'path-info.json');
    await writeFile(file, await pathInfoJson(fixture.storeUri, fixture.root));
    await expectMatchesNix(file);
  });
});

describe('closure file errors', () => {
  let scratch: string;
  const storeDir = '/nix/store';
  const item = (digit: number, name: string) => `${storeDir}/${String(digit).repeat(32)}-${name}`;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'storepack-closure-file-errors-'));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function fileError(
    name: string,
    text: string,
  ): Promise<{ file: string; error: ClosureError }> {
    const file = path.join(scratch, name);
    await writeFile(file, text);
    return { file, error: await rejection(resolveClosure([item(1, 'a')], { from: file })) };
  }

  it.each([
    // The count of references is not a number.
    [
      'bad count',
      `${item(1, 'a')}\n\nthree\n`,
      3,
      'expected the number of references, found "three"',
    ],
    // Two references announced, one given.
    [
      'short block',
      `${item(1, 'a')}\n\n2\n${item(2, 'b')}\n`,
      5,
      'expected a reference, found the end of the file',
    ],
    // A reference that is not a store path.
    [
      'bad reference',
      `${item(1, 'a')}\n\n1\n/usr/lib/libc.so\n`,
      4,
      'expected a reference (an item of /nix/store), found "/usr/lib/libc.so"',
    ],
    // A registration whose NAR size is not a number.
    [
      'bad size',
      `${item(1, 'a')}\n${'0'.repeat(64)}\n12kB\n\n0\n`,
      3,
      'expected the NAR size in bytes, found "12kB"',
    ],
    // A second block that starts with text.
    [
      'bad second path',
      `${item(1, 'a')}\n\n0\nhello\n`,
      4,
      'expected a store path (an item of /nix/store), found "hello"',
    ],
  ])('registration with %s', async (name, text, line, reason) => {
    const { file, error } = await fileError(name.replace(/ /g, '-'), text);
    expect(error.code).toBe('INVALID_FILE');
    expect(error.path).toBe(file);
    expect(error.message).toBe(`closure file ${file} line ${line}: ${reason}`);
  });

  it.each([
    // A missing value after a member name.
    [
      'missing value',
      `{\n  "${item(1, 'a')}": {\n    "references": \n  }\n}\n`,
      'line 4 column 3: invalid JSON: expected a value, found "}"',
    ],
    // A trailing comma in an array.
    [
      'trailing comma',
      `[\n  {"path": "${item(1, 'a')}", "references": []},\n]\n`,
      'line 3 column 1: invalid JSON: expected a value, found "]"',
    ],
    // Text cut short: the error is just past the last character of line 2.
    [
      'cut short',
      `[\n  {"path": "${item(1, 'a')}",`,
      `line 2 column ${`  {"path": "${item(1, 'a')}",`.length + 1}: invalid JSON: expected a member name in double quotes, found the end of the text`,
    ],
  ])('JSON with %s', async (name, text, where) => {
    const { file, error } = await fileError(`${name.replace(/ /g, '-')}.json`, text);
    expect(error.code).toBe('INVALID_FILE');
    expect(error.message).toBe(`closure file ${file} ${where}`);
  });

  it('JSON with references not a list', async () => {
    const { file, error } = await fileError(
      'not-a-list.json',
      JSON.stringify([{ path: item(1, 'a'), references: item(2, 'b') }]),
    );
    expect(error.code).toBe('INVALID_FILE');
    expect(error.message).toBe(
      `closure file ${file}: [0].references: expected an array of store paths, found "${item(2, 'b')}"`,
    );
  });

  it('rejects reference without entry', async () => {
    const { file, error } = await fileError('dangling', `${item(1, 'a')}\n\n1\n${item(2, 'b')}\n`);
    expect(error.code).toBe('MISSING_REFERENCE');
    expect(error.path).toBe(item(2, 'b'));
    expect(error.message).toBe(
      `closure file ${file}: ${item(1, 'a')} refers to ${item(2, 'b')}, which has no entry of its own`,
    );
  });

  it('rejects empty file', async () => {
    const { file, error } = await fileError('empty', '\n');
    expect(error.code).toBe('INVALID_FILE');
    expect(error.message).toBe(`closure file ${file} is empty: expected at least one item`);
  });
});

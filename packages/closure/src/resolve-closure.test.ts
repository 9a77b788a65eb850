import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  buildNixClosure,
  type NixClosureFixture,
  queryReferences,
  queryRequisites,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Closure, referrerCounts } from './closure.js';
import { ClosureError } from './errors.js';
import type { Logger } from './logger.js';
import { resolveClosure } from './resolve-closure.js';
import { defaultDatabasePath } from './store-database.js';

const execFileAsync = promisify(execFile);

function recordingLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    debug: (message) => messages.push(`debug: ${message}`),
    warn: (message) => messages.push(`warn: ${message}`),
  };
}

async function rejection(promise: Promise<unknown>): Promise<ClosureError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ClosureError);
  return error as ClosureError;
}

/** Copies the items of a closure with `cp -a` into `<root><storeDir>`, without any database. */
async function copyStore(fixture: NixClosureFixture, items: string[], root: string): Promise<void> {
  await mkdir(path.join(root, fixture.storeDir), { recursive: true });
  await execFileAsync('cp', ['-a', ...items, path.join(root, fixture.storeDir)]);
}

async function removeCopy(folder: string): Promise<void> {
  // Store items are read-only, so make them writable before removing them.
  await execFileAsync('chmod', ['-R', 'u+w', folder]).catch(() => undefined);
  await rm(folder, { recursive: true, force: true });
}

async function expectMatchesNix(fixture: NixClosureFixture, closure: Closure): Promise<void> {
  expect(closure.items.map((item) => item.path)).toEqual(
    await queryRequisites(fixture, fixture.root),
  );
  for (const item of closure.items) {
    expect(item.references, item.path).toEqual(await queryReferences(fixture, item.path));
  }
}

describe.each(['nix', 'guix'] as const)('resolveClosure on %s layout', (layout) => {
  let fixture: NixClosureFixture;
  let scratch: string;

  beforeAll(async () => {
    fixture = await buildNixClosure({ layout });
    scratch = await mkdtemp(path.join(os.tmpdir(), `storepack-closure-${layout}-`));
  });

  afterAll(async () => {
    await removeCopy(scratch);
  });

  it.each(['db', 'scan'] as const)('matches nix-store from %s', async (from) => {
    const closure = await resolveClosure([fixture.root], { from, db: fixture.dbPath });

    expect(closure.source).toBe(from);
    expect(closure.storeDir).toBe(fixture.storeDir);
    expect(closure.roots).toEqual([fixture.root]);
    await expectMatchesNix(fixture, closure);
  });

  it('records NAR sizes from db', async () => {
    const closure = await resolveClosure([fixture.root], { from: 'db', db: fixture.dbPath });
    for (const item of closure.items) {
      expect(item.narSize, item.path).toBeGreaterThan(0);
    }
  });

  it('resolves file inside an item', async () => {
    const closure = await resolveClosure([`${fixture.root}/bin/hello`], { from: 'scan' });
    expect(closure.roots).toEqual([fixture.root]);
    await expectMatchesNix(fixture, closure);
  });

  it('scans a copy under root', async () => {
    const root = path.join(scratch, 'copy');
    await copyStore(fixture, await queryRequisites(fixture, fixture.root), root);
    const logger = recordingLogger();

    const closure = await resolveClosure([fixture.root], { root, logger });

    expect(closure.source).toBe('scan');
    await expectMatchesNix(fixture, closure);
    // A copy without its database is an ordinary scan, not worth a warning.
    expect(logger.messages).toContain('debug: skipping the store database: it cannot be read');
  });

  it('reads the database under root', async () => {
    const root = path.join(scratch, 'with-db');
    await copyStore(fixture, await queryRequisites(fixture, fixture.root), root);
    const db = defaultDatabasePath(fixture.storeDir, root) as string;
    await mkdir(path.dirname(db), { recursive: true });
    await copyFile(fixture.dbPath, db);

    const closure = await resolveClosure([fixture.root], { root });

    expect(closure.source).toBe('db');
    await expectMatchesNix(fixture, closure);
  });

  it('rejects item missing under root', async () => {
    const root = path.join(scratch, 'no-glibc');
    const items = await queryRequisites(fixture, fixture.root);
    await copyStore(
      fixture,
      items.filter((item) => item !== fixture.items.glibc),
      root,
    );

    const error = await rejection(
      resolveClosure([fixture.root], { from: 'db', db: fixture.dbPath, root }),
    );

    expect(error.code).toBe('MISSING_REFERENCE');
    expect(error.path).toBe(fixture.items.glibc);
    expect(error.message).toBe(
      `${fixture.items.jq} refers to ${fixture.items.glibc}, which is listed by the store database but missing at ${root}${fixture.items.glibc}: no such file or directory`,
    );
  });

  it('rejects missing root', async () => {
    const missing = `${fixture.storeDir}/${'0'.repeat(32)}-missing-1.0`;
    const error = await rejection(resolveClosure([missing]));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.path).toBe(missing);
    expect(error.message).toBe(`root ${missing} not found: no such file or directory`);
  });

  it('counts referrers without self-references', async () => {
    const closure = await resolveClosure([fixture.root], { from: 'db', db: fixture.dbPath });
    const { app, jq, glibc, busybox, greeting } = fixture.items;
    expect(Object.fromEntries(referrerCounts(closure))).toEqual({
      [app]: 0,
      [jq]: 1,
      [glibc]: 1,
      [busybox]: 1,
      [greeting]: 1,
    });
  });
});

describe('resolveClosure input errors', () => {
  let nix: NixClosureFixture;
  let guix: NixClosureFixture;

  beforeAll(async () => {
    nix = await buildNixClosure({ layout: 'nix' });
    guix = await buildNixClosure({ layout: 'guix' });
  });

  it('rejects root not a store path', async () => {
    const error = await rejection(resolveClosure(['/usr/bin/jq']));
    expect(error.code).toBe('NOT_A_STORE_PATH');
    expect(error.path).toBe('/usr/bin/jq');
    expect(error.message).toBe(
      '"/usr/bin/jq" is not a store path: no component has the form <32-character hash>-<name>',
    );
  });

  it('rejects roots in two store dirs', async () => {
    const error = await rejection(resolveClosure([nix.root, guix.root]));
    expect(error.code).toBe('NOT_A_STORE_PATH');
    expect(error.path).toBe(guix.root);
    expect(error.message).toBe(
      `${JSON.stringify(guix.root)} is not a store path: it is not inside the store directory /nix/store`,
    );
  });

  it('rejects root outside given store dir', async () => {
    const error = await rejection(resolveClosure([nix.root], { storeDir: '/gnu/store' }));
    expect(error.code).toBe('NOT_A_STORE_PATH');
    expect(error.message).toContain('not inside the store directory /gnu/store');
  });

  it('rejects root not in database', async () => {
    const error = await rejection(resolveClosure([nix.root], { from: 'db', db: guix.dbPath }));
    expect(error.code).toBe('NOT_IN_DATABASE');
    expect(error.path).toBe(nix.root);
    expect(error.message).toBe(`${nix.root} is not a valid path in store database ${guix.dbPath}`);
  });

  it('falls back to scan for auto', async () => {
    const logger = recordingLogger();
    const closure = await resolveClosure([nix.root], { db: guix.dbPath, logger });
    expect(closure.source).toBe('scan');
    expect(closure.items.map((item) => item.path)).toEqual(await queryRequisites(nix, nix.root));
    expect(logger.messages).toContain(
      'warn: skipping the store database: it does not list every root',
    );
  });

  it('rejects a missing explicit database for auto', async () => {
    const missing = path.join(os.tmpdir(), 'storepack-no-such-folder', 'db.sqlite');
    const error = await rejection(resolveClosure([nix.root], { db: missing }));
    expect(error.code).toBe('DATABASE');
    expect(error.path).toBe(missing);
  });

  it('takes other sources as closure files', async () => {
    const missing = path.join(os.tmpdir(), 'storepack-no-such-folder', 'cache');
    const error = await rejection(resolveClosure([nix.root], { from: missing }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.path).toBe(missing);
    expect(error.message).toBe(`reading closure file ${missing}: no such file or directory`);
  });

  it('rejects empty source', async () => {
    const error = await rejection(resolveClosure([nix.root], { from: '' }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe(
      'closure source "" is invalid: expected auto, db, command, scan or a closure file',
    );
  });

  it('rejects empty roots', async () => {
    const error = await rejection(resolveClosure([]));
    expect(error.code).toBe('INVALID_OPTION');
  });
});

import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildNixClosure, type NixClosureFixture } from '@storepack/test-utils';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosureError } from './errors.js';
import { resolveClosure } from './resolve-closure.js';
import { defaultDatabasePath } from './store-database.js';

const execFileAsync = promisify(execFile);

describe('defaultDatabasePath', () => {
  it.each([
    { storeDir: '/nix/store', root: undefined, expected: '/nix/var/nix/db/db.sqlite' },
    { storeDir: '/gnu/store', root: undefined, expected: '/var/guix/db/db.sqlite' },
    {
      storeDir: '/nix/store',
      root: '/tmp/chroot',
      expected: '/tmp/chroot/nix/var/nix/db/db.sqlite',
    },
    { storeDir: '/gnu/store', root: '/tmp/chroot', expected: '/tmp/chroot/var/guix/db/db.sqlite' },
    { storeDir: '/opt/store', root: undefined, expected: undefined },
  ])('maps $storeDir under $root', ({ storeDir, root, expected }) => {
    expect(defaultDatabasePath(storeDir, root)).toBe(expected);
  });
});

describe('store database', () => {
  let fixture: NixClosureFixture;
  let scratch: string;

  beforeAll(async () => {
    fixture = await buildNixClosure();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'storepack-closure-db-'));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function databaseError(name: string, db: string): Promise<ClosureError> {
    const error = await resolveClosure([fixture.root], { from: 'db', db }).catch(
      (caught: unknown) => caught,
    );
    expect(error, name).toBeInstanceOf(ClosureError);
    return error as ClosureError;
  }

  it('leaves no files beside the database', async () => {
    const folder = await mkdtemp(path.join(scratch, 'copy-'));
    const db = path.join(folder, 'db.sqlite');
    await copyFile(fixture.dbPath, db);

    const closure = await resolveClosure([fixture.root], { from: 'db', db });

    expect(closure.source).toBe('db');
    expect(closure.items.length).toBe(5);
    expect(await readdir(folder)).toEqual(['db.sqlite']);
  });

  it('plain read-only open leaves files', async () => {
    // The control case: a store database is in WAL mode, so an open without immutable=1 creates
    // -shm and -wal files, which the test above would catch.
    const folder = await mkdtemp(path.join(scratch, 'control-'));
    const db = path.join(folder, 'db.sqlite');
    await copyFile(fixture.dbPath, db);

    const connection = new Database(db, { readonly: true });
    connection.prepare('SELECT count(*) FROM ValidPaths').get();
    connection.close();

    expect((await readdir(folder)).sort()).toEqual(['db.sqlite', 'db.sqlite-shm', 'db.sqlite-wal']);
  });

  it('rejects missing database file', async () => {
    const db = path.join(scratch, 'missing.sqlite');
    const error = await databaseError('missing', db);
    expect(error.code).toBe('DATABASE');
    expect(error.path).toBe(db);
    expect(error.message).toBe(`opening store database ${db}: no such file or directory`);
  });

  it('rejects database that is a folder', async () => {
    const error = await databaseError('folder', scratch);
    expect(error.code).toBe('DATABASE');
    expect(error.message).toBe(`opening store database ${scratch}: not a regular file`);
  });

  it('rejects text file as database', async () => {
    const db = path.join(scratch, 'notes.txt');
    await writeFile(db, 'these are notes, not a database\n'.repeat(200));
    const error = await databaseError('text', db);
    expect(error.code).toBe('DATABASE');
    expect(error.path).toBe(db);
    expect(error.message).toBe(
      `opening store database ${db}: file is not a database (SQLITE_NOTADB)`,
    );
  });

  it('rejects SQLite file without ValidPaths', async () => {
    const db = path.join(scratch, 'other.sqlite');
    await execFileAsync('sqlite3', [
      db,
      'CREATE TABLE Refs (referrer integer, reference integer);',
    ]);
    const error = await databaseError('no ValidPaths', db);
    expect(error.code).toBe('DATABASE');
    expect(error.message).toBe(
      `opening store database ${db}: not a Nix or Guix store database (no ValidPaths table)`,
    );
  });

  it('rejects root not in database', async () => {
    const db = path.join(scratch, 'empty-store.sqlite');
    await execFileAsync('sqlite3', [
      db,
      'CREATE TABLE ValidPaths (id integer primary key, path text unique not null, narSize integer);' +
        'CREATE TABLE Refs (referrer integer not null, reference integer not null);',
    ]);
    const error = await databaseError('root not listed', db);
    expect(error.code).toBe('NOT_IN_DATABASE');
    expect(error.path).toBe(fixture.root);
    expect(error.message).toBe(`${fixture.root} is not a valid path in store database ${db}`);
  });

  it('rejects dangling Refs row', async () => {
    const db = path.join(scratch, 'dangling.sqlite');
    await execFileAsync('sqlite3', [
      db,
      'CREATE TABLE ValidPaths (id integer primary key, path text unique not null, narSize integer);' +
        'CREATE TABLE Refs (referrer integer not null, reference integer not null);' +
        `INSERT INTO ValidPaths VALUES (1, '${fixture.root}', 10);` +
        'INSERT INTO Refs VALUES (1, 7);',
    ]);
    const error = await databaseError('dangling reference', db);
    expect(error.code).toBe('MISSING_REFERENCE');
    expect(error.message).toBe(
      `reading store database ${db}: ${fixture.root} refers to row 7 of Refs, which has no ValidPaths entry`,
    );
  });
});

import path from 'node:path';
import { ClosureError } from './errors.js';

/** A store item named by its path, split into the store directory, hash part and name. */
export interface StorePath {
  /** Path of the store item itself, e.g. `/gnu/store/<hash>-bash-5.1`. */
  path: string;
  /** Store directory that contains the item, e.g. `/gnu/store`. */
  storeDir: string;
  /** Hash part of the item's name: 32 characters of Nix base32. */
  hashPart: string;
  /** Name after the hash part and its dash, e.g. `bash-5.1`. */
  name: string;
}

/** Length of the hash part of a store item name. */
export const hashPartLength = 32;

/** Digits of Nix's base32 encoding: 0-9 and a-z without e, o, u and t. */
export const nixBase32Alphabet = '0123456789abcdfghijklmnpqrsvwxyz';

// Nix accepts these characters in the name after the hash part, which may not start with a dot.
const nameCharacters = /^[A-Za-z0-9+\-._?=]+$/;
const maxNameLength = 211;

// Store directories recognised without a hint, so that errors on them name the exact defect.
const wellKnownStoreDirs = ['/nix/store', '/gnu/store'];

// A path component that looks like a store item name, before the strict checks.
const looseItemName = /^[0-9a-z]{32}-/;

/**
 * Parses an absolute store path into its parts. A path inside an item, such as
 * `/nix/store/<hash>-hello-2.12/bin/hello`, resolves to the item, as `nix-store` does.
 * Throws `NOT_A_STORE_PATH` naming the path and the reason.
 */
export function parseStorePath(storePath: string, storeDir?: string): StorePath {
  const fail = (reason: string): never => {
    throw new ClosureError(
      'NOT_A_STORE_PATH',
      `${JSON.stringify(storePath)} is not a store path: ${reason}`,
      {
        path: storePath,
      },
    );
  };

  if (!path.posix.isAbsolute(storePath)) {
    fail('expected an absolute path such as /nix/store/<hash>-<name>');
  }
  const normalized = path.posix.normalize(storePath).replace(/\/+$/, '');
  const dir = storeDir === undefined ? guessStoreDir(normalized) : normalizeStoreDir(storeDir);
  if (dir === undefined) {
    return fail('no component has the form <32-character hash>-<name>');
  }

  if (!normalized.startsWith(`${dir}/`)) {
    fail(`it is not inside the store directory ${dir}`);
  }
  const itemName = normalized.slice(dir.length + 1).split('/')[0] as string;
  const reason = checkItemName(itemName);
  if (reason !== undefined) {
    fail(reason);
  }

  return {
    path: `${dir}/${itemName}`,
    storeDir: dir,
    hashPart: itemName.slice(0, hashPartLength),
    name: itemName.slice(hashPartLength + 1),
  };
}

/** Returns the store directory that contains the item at `storePath`, e.g. `/gnu/store`. */
export function storeDirOf(storePath: string): string {
  return parseStorePath(storePath).storeDir;
}

/**
 * Checks a store item name (`<hash>-<name>`, no slash) and returns why it is invalid, or
 * undefined when it is valid.
 */
export function checkItemName(itemName: string): string | undefined {
  const dash = itemName.indexOf('-');
  if (dash !== hashPartLength) {
    const length = dash === -1 ? itemName.length : dash;
    return `the hash part ${JSON.stringify(itemName.slice(0, length))} has ${length} characters, expected ${hashPartLength} followed by -<name>`;
  }

  const hashPart = itemName.slice(0, hashPartLength);
  for (const character of hashPart) {
    if (!nixBase32Alphabet.includes(character)) {
      return `the hash part ${JSON.stringify(hashPart)} contains ${JSON.stringify(character)}, which is not a Nix base32 digit (0-9, a-z without e, o, u, t)`;
    }
  }

  const name = itemName.slice(hashPartLength + 1);
  if (name === '') {
    return 'the name after the hash part is empty';
  }
  if (name.length > maxNameLength) {
    return `the name has ${name.length} characters, more than the ${maxNameLength} that Nix allows`;
  }
  if (name.startsWith('.') || !nameCharacters.test(name)) {
    return `the name ${JSON.stringify(name)} has characters other than A-Z a-z 0-9 + - . _ ? = or starts with a dot`;
  }
  return undefined;
}

function normalizeStoreDir(storeDir: string): string {
  if (!path.posix.isAbsolute(storeDir)) {
    throw new ClosureError(
      'INVALID_OPTION',
      `store directory ${JSON.stringify(storeDir)} is invalid: expected an absolute path such as /nix/store`,
    );
  }
  const normalized = path.posix.normalize(storeDir).replace(/\/+$/, '');
  if (normalized === '') {
    throw new ClosureError(
      'INVALID_OPTION',
      'store directory "/" is invalid: expected a folder below the file system root such as /nix/store',
    );
  }
  return normalized;
}

function guessStoreDir(normalized: string): string | undefined {
  for (const dir of wellKnownStoreDirs) {
    if (normalized.startsWith(`${dir}/`)) {
      return dir;
    }
  }

  const components = normalized.split('/');
  const index = components.findIndex((component) => looseItemName.test(component));
  return index > 1 ? components.slice(0, index).join('/') : undefined;
}

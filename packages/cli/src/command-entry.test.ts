import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCommand } from '@storepack/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandEntry } from './command-entry.js';

const packageFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// A workspace of two packages: cli, whose dist contains the command, and layers.
let folder: string;
let dist: string;
let cliBuildInfo: string;
let layersBuildInfo: string;

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'storepack-command-entry-'));
  dist = path.join(folder, 'cli', 'dist');
  cliBuildInfo = path.join(folder, 'cli', 'tsconfig.tsbuildinfo');
  layersBuildInfo = path.join(folder, 'layers', 'tsconfig.tsbuildinfo');
  await mkdir(dist, { recursive: true });
  await mkdir(path.dirname(layersBuildInfo));
  await writeFile(path.join(dist, 'main.js'), '');
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Writes a file whose modification time is `seconds` since the epoch. */
async function writeAt(file: string, seconds: number, contents = ''): Promise<void> {
  await writeFile(file, contents);
  await utimes(file, seconds, seconds);
}

/** Writes a bundle made at `seconds` from the two packages. */
async function writeBundle(seconds: number): Promise<void> {
  await writeAt(path.join(dist, 'storepack.js'), seconds);
  await writeFile(
    path.join(dist, 'storepack.json'),
    JSON.stringify({ builtFrom: ['../tsconfig.tsbuildinfo', '../../layers/tsconfig.tsbuildinfo'] }),
  );
}

describe('commandEntry', () => {
  it('runs the modules when there is no bundle', () => {
    expect(commandEntry(dist)).toBe(path.join(dist, 'main.js'));
  });

  it('runs the bundle when no build-info file is newer', async () => {
    await writeAt(cliBuildInfo, 999);
    await writeAt(layersBuildInfo, 1000);
    await writeBundle(1000);

    expect(commandEntry(dist)).toBe(path.join(dist, 'storepack.js'));
  });

  it('runs the modules once a project is compiled after the bundle', async () => {
    await writeAt(cliBuildInfo, 999);
    await writeBundle(1000);
    await writeAt(layersBuildInfo, 1001);

    expect(commandEntry(dist)).toBe(path.join(dist, 'main.js'));
  });

  it('counts no build-info file that is missing, as in an installed package', async () => {
    await writeBundle(1000);

    expect(commandEntry(dist)).toBe(path.join(dist, 'storepack.js'));
  });

  it.each([
    ['missing', undefined],
    ['not JSON', '{'],
    ['without a list', '{"builtFrom": "../tsconfig.tsbuildinfo"}'],
    ['with a list of numbers', '{"builtFrom": [1]}'],
  ])('runs the modules when the list of build-info files is %s', async (_case, contents) => {
    await writeAt(path.join(dist, 'storepack.js'), 1000);
    if (contents !== undefined) {
      await writeFile(path.join(dist, 'storepack.json'), contents);
    }

    expect(commandEntry(dist)).toBe(path.join(dist, 'main.js'));
  });
});

describe('the built command', () => {
  const builtDist = path.join(packageFolder, 'dist');

  it('runs from the bundle that `pnpm build` made', async () => {
    const bundle = pathToFileURL(path.join(builtDist, 'storepack.js')).href;
    const script = `import { main } from '${bundle}'; process.exitCode = await main(['--version']);`;

    const { stdout } = await runCommand(process.execPath, ['--input-type=module', '-e', script]);

    expect(stdout).toMatch(/^storepack \d+\.\d+\.\d+\n$/);
  });

  it('bundles only the workspace packages, leaving third-party ones outside', async () => {
    const bundle = await readFile(path.join(builtDist, 'storepack.js'), 'utf8');

    // esbuild names every bundled module in a comment by its path.
    expect(bundle).toContain('// packages/layers/dist/');
    expect(bundle).not.toContain('node_modules');
    expect(bundle).toMatch(/^import .* from "better-sqlite3";$/m);
    expect(bundle).toMatch(/^import .* from "tar-stream";$/m);
  });
});

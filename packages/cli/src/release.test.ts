// A release dry run: the committed repository is cloned into a temporary folder and
// `pnpm changeset version` applies its changesets there, never in the working copy. The clone
// borrows the working copy's node_modules, so the run needs no network.
import { mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BUMPS = ['patch', 'minor', 'major'] as const;
type Bump = (typeof BUMPS)[number];

/** A changeset file: the bump it requests for each package, and its changelog text. */
interface Changeset {
  file: string;
  bumps: Map<string, Bump>;
  summary: string;
}

/** A workspace package's manifest, as far as a release touches it. */
interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const testFolder = path.dirname(fileURLToPath(import.meta.url));

let source: string;
let clone: string;
let work: string;
let changesets: Changeset[];
let before: Map<string, Manifest>;
let sourceVersions: string[];
let sourceChangesets: string[];

/** Parses a changeset: a front matter of `"package": bump` lines, then the summary. */
function parseChangeset(file: string, text: string): Changeset {
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  if (match === null) {
    throw new Error(`${file}: expected a front matter between --- lines`);
  }
  const bumps = new Map<string, Bump>();
  for (const line of (match[1] ?? '').split('\n').filter((entry) => entry.trim() !== '')) {
    const entry = /^["']?(@?[^"':]+)["']?:\s*(patch|minor|major)\s*$/.exec(line);
    if (entry === null) {
      throw new Error(`${file}: invalid front matter line: ${line}`);
    }
    bumps.set(entry[1] as string, entry[2] as Bump);
  }
  return { file, bumps, summary: (match[2] ?? '').trim() };
}

/** Reads every workspace package's manifest under `root`, by package name. */
async function readManifests(root: string): Promise<Map<string, Manifest>> {
  const manifests = new Map<string, Manifest>();
  for (const folder of await readdir(path.join(root, 'packages'))) {
    const text = await readFile(path.join(root, 'packages', folder, 'package.json'), 'utf8');
    const manifest = JSON.parse(text) as Manifest;
    manifests.set(manifest.name, manifest);
  }
  return manifests;
}

/** Returns a package's folder under `root`. */
function folderOf(root: string, name: string): string {
  return path.join(root, 'packages', name.replace('@storepack/', ''));
}

/** Applies the highest bump to a 0.x version, as changesets does: major gives 1.0.0. */
function bumpVersion(version: string, bump: Bump): string {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  if (bump === 'major') return `${major + 1}.0.0`;
  if (bump === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

/** Returns the workspace dependencies of a manifest with their `workspace:` ranges. */
function workspaceDependencies(manifest: Manifest): Record<string, string> {
  const all = { ...manifest.dependencies, ...manifest.devDependencies };
  return Object.fromEntries(Object.entries(all).filter(([name]) => name.startsWith('@storepack/')));
}

beforeAll(async () => {
  // The repository this test file is in: a developer's checkout, or CI's own clone.
  const { stdout } = await runCommand('git', ['rev-parse', '--show-toplevel'], { cwd: testFolder });
  source = stdout.trim();

  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-release-'));
  clone = path.join(work, 'repo');
  await runCommand('git', ['clone', '--quiet', '--no-hardlinks', source, clone]);
  await symlink(path.join(source, 'node_modules'), path.join(clone, 'node_modules'));

  const changesetFolder = path.join(clone, '.changeset');
  const files = (await readdir(changesetFolder)).filter(
    (file) => file.endsWith('.md') && file !== 'README.md',
  );
  changesets = await Promise.all(
    files.map(async (file) =>
      parseChangeset(file, await readFile(path.join(changesetFolder, file), 'utf8')),
    ),
  );
  before = await readManifests(clone);
  sourceVersions = [...(await readManifests(source)).values()].map((manifest) => manifest.version);
  sourceChangesets = await readdir(path.join(source, '.changeset'));

  // The guard that keeps `changeset version` out of the working copy.
  if (path.resolve(clone) === path.resolve(source)) {
    throw new Error(`refusing to run changeset version in ${source}: the clone must be elsewhere`);
  }
  await runCommand('pnpm', ['changeset', 'version'], { cwd: clone });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('changeset version dry run', () => {
  it('has changesets to release', () => {
    expect(changesets.length).toBeGreaterThan(0);
  });

  it('names only workspace packages', () => {
    for (const changeset of changesets) {
      for (const name of changeset.bumps.keys()) {
        expect(before.has(name), `${changeset.file} names ${name}`).toBe(true);
      }
    }
  });

  it('bumps every public package', async () => {
    const after = await readManifests(clone);
    const publicNames = [...before.values()].filter((manifest) => !manifest.private);
    expect(publicNames.length).toBeGreaterThan(0);

    for (const { name, version } of publicNames) {
      const bumps = changesets.flatMap((changeset) => changeset.bumps.get(name) ?? []);
      expect(bumps.length, `changesets for ${name}`).toBeGreaterThan(0);
      const highest = BUMPS[Math.max(...bumps.map((bump) => BUMPS.indexOf(bump)))] as Bump;

      const released = after.get(name)?.version;
      expect(released, `version of ${name}`).toBe(bumpVersion(version, highest));
      expect(released, `version of ${name}`).toMatch(/^0\.[1-9]\d*\.0$/);
    }
  });

  it('writes each changeset to the changelogs', async () => {
    const after = await readManifests(clone);
    for (const manifest of before.values()) {
      if (manifest.private) {
        continue;
      }
      const changelog = await readFile(
        path.join(folderOf(clone, manifest.name), 'CHANGELOG.md'),
        'utf8',
      );
      expect(changelog.startsWith(`# ${manifest.name}\n`), `${manifest.name} title`).toBe(true);
      expect(changelog).toContain(`## ${after.get(manifest.name)?.version}\n`);

      for (const changeset of changesets.filter((entry) => entry.bumps.has(manifest.name))) {
        const firstLine = changeset.summary.split('\n')[0] as string;
        expect(changelog, `${changeset.file} in ${manifest.name}'s changelog`).toContain(firstLine);
      }
    }
  });

  it('keeps workspace dependency ranges', async () => {
    const after = await readManifests(clone);
    for (const [name, manifest] of before) {
      const ranges = workspaceDependencies(manifest);
      expect(Object.values(ranges).every((range) => range === 'workspace:^')).toBe(true);
      expect(workspaceDependencies(after.get(name) as Manifest), `${name}`).toEqual(ranges);
    }
  });

  it('leaves the private test-utils alone', async () => {
    const after = await readManifests(clone);
    const testUtils = '@storepack/test-utils';
    expect(before.get(testUtils)?.private).toBe(true);
    expect(after.get(testUtils)?.version).toBe(before.get(testUtils)?.version);
    const changelog = stat(path.join(folderOf(clone, testUtils), 'CHANGELOG.md'));
    await expect(changelog).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('consumes the changeset files', async () => {
    const left = (await readdir(path.join(clone, '.changeset'))).filter(
      (file) => file.endsWith('.md') && file !== 'README.md',
    );
    expect(left).toEqual([]);
  });

  it('leaves the working copy untouched', async () => {
    const manifests = await readManifests(source);
    expect([...manifests.values()].map((manifest) => manifest.version)).toEqual(sourceVersions);
    expect(await readdir(path.join(source, '.changeset'))).toEqual(sourceChangesets);
  });
});

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const packagesFolder = path.resolve(import.meta.dirname, '../..');

// Which workspace packages each package may import at run time. The metadata package is
// self-contained so that downstream tools can take it without the builder.
const allowed: Record<string, string[]> = {
  'image-spec': [],
  closure: [],
  layers: ['@storepack/image-spec'],
  image: ['@storepack/closure', '@storepack/image-spec', '@storepack/layers'],
  cli: ['@storepack/closure', '@storepack/image', '@storepack/image-spec'],
};

/** Workspace packages that the non-test sources of a package import. */
async function importedWorkspacePackages(name: string): Promise<string[]> {
  const source = path.join(packagesFolder, name, 'src');
  const files = (await readdir(source, { recursive: true })).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
  );
  const imported = new Set<string>();
  for (const file of files) {
    const text = await readFile(path.join(source, file), 'utf8');
    for (const match of text.matchAll(/from '(@storepack\/[a-z-]+)/g)) {
      imported.add(match[1] as string);
    }
  }
  return [...imported].sort();
}

describe('package boundaries', () => {
  it.each(Object.entries(allowed))(
    '%s imports only what it may',
    async (name, workspaceDependencies) => {
      const imported = await importedWorkspacePackages(name);
      for (const dependency of imported) {
        expect(workspaceDependencies).toContain(dependency);
      }
    },
  );

  it.each(Object.entries(allowed))(
    '%s declares exactly its workspace dependencies',
    async (name, workspaceDependencies) => {
      const manifest = JSON.parse(
        await readFile(path.join(packagesFolder, name, 'package.json'), 'utf8'),
      );
      const declared = Object.keys(manifest.dependencies ?? {}).filter((dependency) =>
        dependency.startsWith('@storepack/'),
      );
      expect(declared.sort()).toEqual(workspaceDependencies);
      for (const dependency of declared) {
        expect(manifest.dependencies[dependency]).toBe('workspace:^');
      }
    },
  );
});

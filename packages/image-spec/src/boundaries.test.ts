import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Module specifiers of every static import, export-from and dynamic import in `source`. */
function importedModules(source: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;
  return [...source.matchAll(pattern)].map((match) => match[1] ?? '');
}

describe('package boundaries', () => {
  it('finds imports in the scanner itself', () => {
    // The quotes are spliced in so that this file's own scan does not see these samples.
    const q = "'";
    const sample = `import a from ${q}x${q};\nexport { b } from ${q}@storepack/y${q};\nimport(${q}z${q});`;
    expect(importedModules(sample)).toEqual(['x', '@storepack/y', 'z']);
  });

  it('imports only its own files and node built-ins', async () => {
    const sourceDir = path.join(PACKAGE_DIR, 'src');
    const files = (await readdir(sourceDir)).filter((name) => name.endsWith('.ts'));
    expect(files).toContain('index.ts');

    const outside: string[] = [];
    for (const file of files) {
      const source = await readFile(path.join(sourceDir, file), 'utf8');
      for (const specifier of importedModules(source)) {
        const allowed =
          specifier.startsWith('./') ||
          specifier.startsWith('node:') ||
          // Tests and type tests may import the test runner, because the build excludes them.
          ((file.endsWith('.test.ts') || file.endsWith('.test-d.ts')) && specifier === 'vitest');
        if (!allowed) {
          outside.push(`${file}: ${specifier}`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it('declares no dependencies in package.json', async () => {
    const manifest = JSON.parse(await readFile(path.join(PACKAGE_DIR, 'package.json'), 'utf8'));
    for (const field of [
      'dependencies',
      'devDependencies',
      'peerDependencies',
      'optionalDependencies',
      'bundleDependencies',
      'bundledDependencies',
    ]) {
      expect({ field, entries: Object.keys(manifest[field] ?? {}) }).toEqual({
        field,
        entries: [],
      });
    }
  });
});

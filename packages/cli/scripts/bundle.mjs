// Bundles the compiled command and the workspace libraries it imports into dist/storepack.js,
// which Node loads in about a third of the time it takes for the separate modules. Third-party
// packages stay outside the bundle, as imports that the cli package declares itself, so that
// native addons, WebAssembly files and licences stay where their packages put them.
//
// Beside the bundle goes dist/storepack.json: the build-info files of the TypeScript projects it
// was made from. bin/storepack.js runs the bundle only while none of them is newer.
//
// Run after `tsc -b`: node scripts/bundle.mjs
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cliFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distFolder = path.join(cliFolder, 'dist');
const packagesFolder = path.dirname(cliFolder);
const entry = path.join(distFolder, 'main.js');
const bundleFile = path.join(distFolder, 'storepack.js');
const sourcesFile = path.join(distFolder, 'storepack.json');

function readManifest(folder) {
  const file = path.join(folder, 'package.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`bundling the command: failed to read ${file}: ${error.message}`);
  }
}

/** Returns every dependency of a manifest with its specifier, optional ones included. */
function runtimeDependencies(manifest) {
  return { ...manifest.dependencies, ...manifest.optionalDependencies };
}

/**
 * Returns the folders of the cli and of the workspace packages it imports, directly or not, the
 * names of the third-party packages of them all, and those of the libraries with their specifiers.
 */
function collectPackages() {
  const folders = [];
  const external = new Set();
  const thirdParty = new Map();
  const visit = (folder) => {
    if (folders.includes(folder)) {
      return;
    }
    folders.push(folder);
    const manifest = readManifest(folder);
    for (const [name, specifier] of Object.entries(runtimeDependencies(manifest))) {
      if (specifier.startsWith('workspace:')) {
        visit(path.join(packagesFolder, name.replace(/^@storepack\//, '')));
        continue;
      }
      external.add(name);
      if (folder !== cliFolder) {
        thirdParty.set(name, { specifier, from: manifest.name });
      }
    }
  };
  visit(cliFolder);
  return { folders, external, thirdParty };
}

/**
 * Checks that the cli declares each third-party dependency of the libraries with the same
 * specifier: the bundle imports them from the cli's own folder.
 */
function checkDeclared(thirdParty) {
  const declared = runtimeDependencies(readManifest(cliFolder));
  for (const [name, { specifier, from }] of thirdParty) {
    if (declared[name] !== specifier) {
      throw new Error(
        `bundling the command: invalid dependency ${name} in packages/cli/package.json: expected ${specifier}, as ${from} has it, found ${declared[name] ?? 'none'}: the bundle imports ${name} from the cli's folder, so declare it there with the same specifier`,
      );
    }
  }
}

/** Writes a file through a temporary one, so that a failed build leaves the old file whole. */
function writeAtomically(file, contents) {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, contents);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

const { folders, external, thirdParty } = collectPackages();
checkDeclared(thirdParty);

const result = await build({
  // Module paths in the bundle's comments are taken from the repository's root, wherever it runs.
  absWorkingDir: path.dirname(packagesFolder),
  entryPoints: [entry],
  outfile: bundleFile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: [...external],
  sourcemap: 'linked',
  write: false,
  logLevel: 'warning',
});

for (const output of result.outputFiles) {
  writeAtomically(output.path, output.contents);
}
const buildInfo = folders.map((folder) =>
  path.relative(distFolder, path.join(folder, 'tsconfig.tsbuildinfo')),
);
writeAtomically(sourcesFile, `${JSON.stringify({ builtFrom: buildInfo }, null, 2)}\n`);

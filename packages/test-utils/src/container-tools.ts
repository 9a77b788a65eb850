import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from './run-command.js';

/** The skopeo transport for an image file or folder: `docker-archive:`, `oci-archive:` or `oci:`. */
export type ImageTransport = `${'docker-archive' | 'oci-archive' | 'oci'}:${string}`;

/** Returns `skopeo inspect --raw` (the manifest) and `--config` of an image, parsed. */
export async function skopeoInspect(
  image: ImageTransport,
): Promise<{ manifest: unknown; config: unknown }> {
  const manifest = await runCommand('skopeo', ['inspect', '--raw', image]);
  const config = await runCommand('skopeo', ['inspect', '--config', '--raw', image]);
  return { manifest: JSON.parse(manifest.stdout), config: JSON.parse(config.stdout) };
}

/**
 * Copies an image into a new OCI layout with skopeo, which checks every blob's digest, then unpacks
 * it with umoci into a runtime bundle. Returns the bundle folder and a function that removes it all.
 */
export async function unpackWithUmoci(
  image: ImageTransport,
): Promise<{ bundle: string; cleanup: () => Promise<void> }> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'storepack-umoci-'));
  const layout = path.join(work, 'oci');
  const bundle = path.join(work, 'bundle');
  await runCommand('skopeo', ['copy', '-q', image, `oci:${layout}:check`]);
  await runCommand('umoci', ['unpack', '--image', `${layout}:check`, bundle]);
  return { bundle, cleanup: () => rm(work, { recursive: true, force: true }) };
}

/**
 * Runs `args`, or the image's own entry point and cmd when `args` is undefined, in an unpacked
 * bundle with runc and returns what it printed. The bundle's config is changed so that it needs no
 * terminal and sets no rlimits, which a sandboxed test host may forbid.
 */
export async function runInBundle(bundle: string, args?: string[]): Promise<string> {
  const configPath = path.join(bundle, 'config.json');
  const config = JSON.parse(await readFile(configPath, 'utf8'));
  config.process.terminal = false;
  if (args !== undefined) {
    config.process.args = args;
  }
  delete config.process.rlimits;
  if (config.linux) {
    delete config.linux.resources;
  }
  await writeFile(configPath, JSON.stringify(config));

  const state = await mkdtemp(path.join(os.tmpdir(), 'storepack-runc-'));
  try {
    const id = `storepack-test-${process.pid}-${Date.now()}`;
    const { stdout } = await runCommand('runc', ['--root', state, 'run', id], {
      cwd: bundle,
      timeoutMs: 60_000,
    });
    return stdout;
  } finally {
    await rm(state, { recursive: true, force: true });
  }
}

/**
 * Loads an archive, or a stream of one given as `input`, into a scratch podman store (vfs driver)
 * and returns what `podman load` printed with `podman inspect` of the loaded image.
 */
export async function podmanLoad(
  source: { archive: string } | { input: Buffer },
): Promise<{ output: string; inspect: unknown[] }> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'storepack-podman-'));
  const podman = [
    '--root',
    path.join(work, 'root'),
    '--runroot',
    path.join(work, 'run'),
    '--storage-driver',
    'vfs',
  ];
  try {
    const load =
      'archive' in source
        ? await runCommand('podman', [...podman, 'load', '-i', source.archive])
        : await runCommand('podman', [...podman, 'load'], { input: source.input });
    const loaded = /Loaded image(?:\(s\))?: (.+)/.exec(load.stdout)?.[1]?.split(',')[0]?.trim();
    if (loaded === undefined) {
      throw new Error(`podman load printed no image name:\n${load.stdout}${load.stderr}`);
    }
    const inspect = await runCommand('podman', [...podman, 'image', 'inspect', loaded]);
    return { output: load.stdout, inspect: JSON.parse(inspect.stdout) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from './run-command.js';

/** An image pulled from a registry by skopeo into an OCI layout, which checked every blob. */
export interface PulledImage {
  /** Digest of the manifest bytes that the registry serves, from `skopeo inspect --raw`. */
  manifestDigest: string;
  /** That manifest, parsed. */
  manifest: { mediaType?: string; config: { digest: string }; layers: { digest: string }[] };
  /** Digest of the manifest in the pulled OCI layout's `index.json`. */
  layoutDigest: string;
  /** Removes the pulled layout. */
  cleanup(): Promise<void>;
}

/**
 * Pulls `reference` (`127.0.0.1:PORT/repository:tag`) over plain HTTP with `skopeo copy` into a
 * new OCI layout, keeping the layers as they are. skopeo verifies each blob's digest as it copies,
 * so a corrupt blob fails here, and an OCI manifest keeps its digest in the layout.
 */
export async function pullWithSkopeo(
  reference: string,
  options: { authFile?: string } = {},
): Promise<PulledImage> {
  const auth = options.authFile === undefined ? [] : ['--authfile', options.authFile];
  const raw = await runCommand('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    ...auth,
    `docker://${reference}`,
  ]);
  const work = await mkdtemp(path.join(os.tmpdir(), 'storepack-pull-'));
  try {
    await runCommand('skopeo', [
      'copy',
      '-q',
      '--src-tls-verify=false',
      // Without this, skopeo gzips uncompressed layers and writes a manifest of its own.
      '--dest-oci-accept-uncompressed-layers',
      ...(options.authFile === undefined ? [] : ['--src-authfile', options.authFile]),
      `docker://${reference}`,
      `oci:${path.join(work, 'layout')}:pulled`,
    ]);
    const index = JSON.parse(await readFile(path.join(work, 'layout', 'index.json'), 'utf8'));
    return {
      manifestDigest: `sha256:${createHash('sha256').update(raw.stdout).digest('hex')}`,
      manifest: JSON.parse(raw.stdout),
      layoutDigest: index.manifests[0].digest,
      cleanup: () => rm(work, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { WriteOptions } from './docker-archive-writer.js';
import type { ImagePlan } from './image-plan.js';
import { type OciImageResult, writeOciLayoutInto } from './oci-layout-writer.js';
import { TarSink } from './tar-sink.js';

/**
 * Streams `plans` to `output` as an oci-archive: a tar of an OCI image layout, as `skopeo copy
 * oci-archive:` and `podman load` read it. Blobs are named by their digests, which are known only
 * once the layers have streamed, so the layout is written to a temporary folder first and then
 * archived with its entries sorted by name.
 */
export async function writeOciArchive(
  plans: ImagePlan | ImagePlan[],
  output: Writable,
  options: WriteOptions = {},
): Promise<OciImageResult> {
  const folder = await mkdtemp(join(tmpdir(), 'storepack-oci-archive-'));
  try {
    // The folder is this writer's own, so blobs from the layer cache are linked, not copied.
    const result = await writeOciLayoutInto(plans, folder, { ...options, linkBuiltBlobs: true });
    const created = (Array.isArray(plans) ? plans[0] : plans)?.created ?? new Date(1000);
    const archive = new TarSink(output, created, options.signal, {
      reuseReadBuffers: options.outputReleasesChunks === true,
    });
    // A layer blob linked from the cache that changed since it was built must fail the copy, so
    // it goes in with the size the manifest records, not the size its file has now.
    const layerSizes = new Map(
      result.images.flatMap((image) =>
        image.layers.map((layer) => [
          `blobs/sha256/${layer.digest.slice('sha256:'.length)}`,
          layer.size,
        ]),
      ),
    );
    try {
      for (const name of await listFiles(folder)) {
        if (name.endsWith('/')) {
          await archive.addDirectory(name);
          continue;
        }
        const file = join(folder, name);
        const size = layerSizes.get(name) ?? (await stat(file)).size;
        await archive.addStream(name, size, archive.readFile(file));
      }
      await archive.finish();
    } catch (error) {
      await archive.destroy(error as Error);
      throw error;
    }
    return result;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Lists a layout's folders (ending with `/`) and files, parents first, sorted by name. */
async function listFiles(folder: string, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  const entries = await readdir(join(folder, prefix), { withFileTypes: true });
  entries.sort((left, right) => Buffer.compare(Buffer.from(left.name), Buffer.from(right.name)));
  for (const entry of entries) {
    const name = `${prefix}${entry.name}`;
    if (entry.isDirectory()) {
      names.push(`${name}/`, ...(await listFiles(folder, `${name}/`)));
    } else {
      names.push(name);
    }
  }
  return names;
}

import {
  canonicalJson,
  computeDigest,
  type Descriptor,
  type Digest,
  DOCKER_ARCHIVE_MANIFEST_PATH,
  isDigest,
  layerMediaType,
  MediaTypes,
} from '@storepack/image-spec';
import { MAX_JSON_BYTES } from '../blob-digest.js';
import { RegistryError } from './errors.js';
import {
  bufferBlob,
  type FileRegion,
  type ManifestVariant,
  type PushSource,
  readRegion,
  regionBlob,
  type SourceBlob,
} from './push-source.js';
import { findRange, type TarIndex } from './tar-index.js';
import { firstBytesCompression, hashRegion } from './uncompressed-archive.js';

/** A layer member with the compression found in its first bytes. */
interface ArchiveLayer {
  blob: SourceBlob;
  compression: 'none' | 'gzip' | 'zstd';
}

/**
 * Reads a docker-archive as an image to push: its config file becomes the config blob and each
 * layer member a layer blob. `archive` is the uncompressed tar of `image`, which names it in
 * messages. The manifest is built here, as an OCI image manifest first and a
 * Docker schema 2 manifest second, each encoded once and named by the digest of those bytes.
 */
export async function dockerArchiveSource(
  image: string,
  archive: string,
  index: TarIndex,
  cleanup: () => Promise<void>,
): Promise<PushSource> {
  const fail = (message: string) =>
    new RegistryError('UNSUPPORTED_IMAGE', `reading ${image}: ${message}`);
  const readMember = async (name: string): Promise<Buffer> => {
    const region = regionOf(archive, index, name);
    if (region === undefined) throw fail(`member ${name} not found`);
    if (region.size > MAX_JSON_BYTES) {
      throw fail(`expected ${name} to be at most ${MAX_JSON_BYTES} bytes, found ${region.size}`);
    }
    return readRegion(region);
  };

  const entries = parseJson(await readMember(DOCKER_ARCHIVE_MANIFEST_PATH));
  if (!Array.isArray(entries) || entries.length !== 1) {
    const found = Array.isArray(entries) ? `${entries.length}` : 'no list';
    throw fail(`expected one image in ${DOCKER_ARCHIVE_MANIFEST_PATH}, found ${found}`);
  }
  const entry = entries[0] as { Config?: unknown; Layers?: unknown };
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
    throw fail(`expected a Config name and a Layers list in ${DOCKER_ARCHIVE_MANIFEST_PATH}[0]`);
  }

  const configBytes = await readMember(entry.Config);
  const config = parseJson(configBytes) as { rootfs?: { diff_ids?: unknown } } | undefined;
  const diffIds: unknown[] = Array.isArray(config?.rootfs?.diff_ids) ? config.rootfs.diff_ids : [];
  const configBlob = bufferBlob(configBytes, computeDigest(configBytes));

  const layers: ArchiveLayer[] = [];
  for (const [position, name] of entry.Layers.entries()) {
    const region = typeof name === 'string' ? regionOf(archive, index, name) : undefined;
    if (region === undefined) {
      throw fail(`layer ${JSON.stringify(name)} of ${DOCKER_ARCHIVE_MANIFEST_PATH} not found`);
    }
    layers.push(await readLayer(region, diffIds[position], fail));
  }

  return {
    children: [],
    top: {
      blobs: [configBlob, ...layers.map((layer) => layer.blob)],
      variants: [
        encodeManifest('oci', configBlob, layers),
        encodeManifest('docker', configBlob, layers),
      ],
    },
    cleanup,
  };
}

/**
 * Finds a layer's digest. An uncompressed layer's digest is its diff ID, which the config lists,
 * so a large layer is not read before the registry is asked whether it has it. A compressed
 * layer is hashed.
 */
async function readLayer(
  region: FileRegion,
  diffId: unknown,
  fail: (message: string) => RegistryError,
): Promise<ArchiveLayer> {
  const compression = await firstBytesCompression(region.path, region.offset);
  if (compression !== 'none' && compression !== 'gzip' && compression !== 'zstd') {
    throw fail(`a layer is ${compression}-compressed, which OCI and Docker manifests cannot name`);
  }
  // NOTE: the diff ID is trusted for an uncompressed layer. A registry checks the digest of
  // every upload, so a layer that does not match its diff ID fails when it is uploaded, but
  // goes unnoticed when the registry already has a blob with that digest.
  const digest: Digest =
    compression === 'none' && typeof diffId === 'string' && isDigest(diffId)
      ? diffId
      : await hashRegion(region);
  return { blob: regionBlob(region, digest), compression };
}

/** Encodes the manifest of an archive image in the OCI or the Docker family of media types. */
function encodeManifest(
  family: 'oci' | 'docker',
  config: SourceBlob,
  layers: ArchiveLayer[],
): ManifestVariant {
  const descriptor = (mediaType: string, blob: SourceBlob): Descriptor => ({
    mediaType,
    digest: blob.digest,
    size: blob.size,
  });
  const mediaType = family === 'oci' ? MediaTypes.ociManifest : MediaTypes.dockerManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: descriptor(family === 'oci' ? MediaTypes.ociConfig : MediaTypes.dockerConfig, config),
    layers: layers.map((layer) =>
      descriptor(layerMediaType(layer.compression, family), layer.blob),
    ),
  };
  // Canonical JSON, as storepack's OCI writer uses, so that one image has one manifest digest.
  const bytes = Buffer.from(canonicalJson(manifest), 'utf8');
  return { mediaType, bytes, digest: computeDigest(bytes) };
}

function regionOf(archive: string, index: TarIndex, name: string): FileRegion | undefined {
  const range = findRange(index, name);
  return range === undefined ? undefined : { path: archive, ...range };
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

import {
  blobPath,
  type Digest,
  formatPlatform,
  type ImageFacts,
  isDigest,
  layerCompression,
  type Platform,
  type ValidationIssue,
} from '@storepack/image-spec';
import type { BlobDigests } from './blob-digest.js';
import { platformOf, summariseConfig } from './config-summary.js';
import { asRecord, locate, parseDocument } from './image-document.js';
import { checkImageFacts } from './image-facts.js';
import type { LayerSummary, ManifestSummary } from './image-inspection.js';
import type { OciBlobSource } from './oci-image-reader.js';

/** Position of a manifest in its index, and the list its issues go to. */
export interface ManifestContext {
  /** JSON path of the index entry, such as `index.json.manifests[0]`. */
  where: string;
  /** References given to the entry and to the indexes above it. */
  references: string[];
  /** The entry's `platform`, as found. */
  indexPlatform: unknown;
  source: OciBlobSource;
  issues: ValidationIssue[];
}

/**
 * Summarises an OCI or Docker schema 2 image manifest and checks it, its config and its layers.
 * `blob` is the manifest blob, undefined when it is missing, which leaves only digest and
 * references to show.
 */
export async function readOciManifest(
  digest: Digest,
  blob: BlobDigests | undefined,
  context: ManifestContext,
): Promise<ManifestSummary> {
  const { issues, source } = context;
  const summary: ManifestSummary = {
    digest,
    references: context.references,
    ...summariseConfig(undefined),
    platform: platformOf(context.indexPlatform),
    configDigest: undefined,
    layers: [],
    totalSize: 0,
  };
  const document = blobPath(digest);
  const parsed = blob === undefined ? undefined : parseDocument(blob, document);
  if (parsed === undefined || !parsed.ok) {
    if (parsed !== undefined) issues.push(parsed.issue);
    return summary;
  }
  const manifest = asRecord(parsed.value) ?? {};

  const blobs = new Map<string, { size: number; digest?: Digest }>();
  const lookUp = async (descriptor: unknown): Promise<BlobDigests | undefined> => {
    const described = validDigest(asRecord(descriptor)?.digest);
    const found = described === undefined ? undefined : await source.blob(described);
    if (described !== undefined && found !== undefined) {
      // Only sha256 is computed while reading, so a blob named by another algorithm goes unhashed.
      const { size, digest } = found;
      blobs.set(described, described.startsWith('sha256:') ? { size, digest } : { size });
    }
    return found;
  };

  const configDigest = validDigest(asRecord(manifest.config)?.digest);
  const configBlob = await lookUp(manifest.config);
  const configDocument = configDigest === undefined ? undefined : blobPath(configDigest);
  const config =
    configBlob === undefined || configDocument === undefined
      ? undefined
      : parseDocument(configBlob, configDocument);
  if (config?.ok === false) {
    issues.push(config.issue);
  } else if (config?.ok) {
    Object.assign(summary, summariseConfig(config.value));
    checkPlatform(summary.platform, context, issues);
  }
  summary.platform ??= platformOf(context.indexPlatform);
  summary.configDigest = configDigest;

  const descriptors = Array.isArray(manifest.layers) ? manifest.layers : [];
  for (const [index, value] of descriptors.entries()) {
    const layerBlob = await lookUp(value);
    summary.layers.push(
      summariseLayer(value, layerBlob, locate(document, `layers[${index}]`), issues),
    );
  }
  const configSize = asRecord(manifest.config)?.size;
  summary.totalSize =
    (typeof configSize === 'number' ? configSize : 0) +
    summary.layers.reduce((sum, layer) => sum + (layer.size ?? 0), 0);

  const facts: ImageFacts = {
    format: 'oci',
    manifest: parsed.value,
    config: config?.ok ? config.bytes : undefined,
    blobs,
    diffIds: summary.layers.map((layer) => layer.diffId),
  };
  issues.push(
    ...checkImageFacts(facts, {
      manifest: document,
      config: configBlob === undefined ? undefined : configDocument,
      configUnreadable: config?.ok === false,
    }),
  );
  return summary;
}

/** Summarises one layer descriptor and checks that the blob has the compression of its media type. */
function summariseLayer(
  value: unknown,
  blob: BlobDigests | undefined,
  where: string,
  issues: ValidationIssue[],
): LayerSummary {
  const descriptor = asRecord(value);
  const digest = descriptor?.digest;
  const mediaType = typeof descriptor?.mediaType === 'string' ? descriptor.mediaType : undefined;
  const size = descriptor?.size;

  const expected = mediaType === undefined ? undefined : layerCompression(mediaType);
  if (blob !== undefined && expected !== undefined && expected !== blob.compression) {
    issues.push({
      path: `${where}.mediaType`,
      message: `expected ${expected} compression, as media type ${JSON.stringify(mediaType)} requires, found ${blob.compression}`,
    });
  }
  if (blob?.gzipError !== undefined) {
    issues.push({
      path: where,
      message: `expected a readable gzip stream, found one that fails: ${blob.gzipError}`,
    });
  }

  return {
    digest: validDigest(digest),
    mediaType,
    size: typeof size === 'number' ? size : undefined,
    // NOTE: zstd layers get no diff ID because node:zlib in Node 20 has no zstd decoder. So the
    // config's diff IDs of zstd layers, and of gzip layers that fail to gunzip, go unchecked.
    diffId: blob?.diffId,
  };
}

/** Reports an index entry whose platform differs from the one its config gives. */
function checkPlatform(
  platform: Platform | undefined,
  context: ManifestContext,
  issues: ValidationIssue[],
): void {
  const claimed = platformOf(context.indexPlatform);
  if (platform === undefined || claimed === undefined) {
    return;
  }
  // Indexes often give arm64 its v8 variant while the config leaves it out, so a variant
  // counts only when both give one.
  const variantsDiffer =
    claimed.variant !== undefined &&
    platform.variant !== undefined &&
    claimed.variant !== platform.variant;
  if (
    claimed.os !== platform.os ||
    claimed.architecture !== platform.architecture ||
    variantsDiffer
  ) {
    issues.push({
      path: `${context.where}.platform`,
      message: `expected ${formatPlatform(platform)}, the platform of the config, found ${formatPlatform(claimed)}`,
    });
  }
}

function validDigest(value: unknown): Digest | undefined {
  return typeof value === 'string' && isDigest(value) ? value : undefined;
}

import { type Digest, isDigest, sameAlgorithm } from './digest.js';
import { checkDockerArchiveImage } from './docker-archive-image-validation.js';
import { validateImageConfig } from './image-config-validation.js';
import { checkOciImage } from './oci-image-validation.js';
import { IssueCollector, indexPath, isRecord, type ValidationIssue } from './validation.js';

/** Facts a reader gathered from an image store: a docker-archive, an OCI layout or an oci-archive. */
export interface ImageFacts {
  /** Store format: a `docker save` archive, or an OCI layout or oci-archive. */
  format: 'docker-archive' | 'oci';
  /** Parsed `manifest.json` entry (docker-archive) or OCI or Docker schema 2 manifest. */
  manifest: unknown;
  /** Raw config bytes, undefined when the config is missing. */
  config: Uint8Array | undefined;
  /** docker-archive: name of the file the config bytes were read from. */
  configName?: string;
  /** OCI: size of each blob present, by digest. docker-archive: size and sha256 of each file, by name. */
  blobs: ReadonlyMap<string, { size: number; digest?: Digest }>;
  /** Diff ID (sha256 of the uncompressed tar) of each layer in manifest order, where computed. */
  diffIds?: readonly (Digest | undefined)[];
}

/** One layer as the manifest lists it, for matching against the config's diff IDs. */
export interface LayerSlot {
  /** JSON path of the layer's descriptor or file name, such as `manifest.layers[0]`. */
  path: string;
  /** Descriptor digest of an uncompressed OCI layer, which is also its diff ID. */
  uncompressedDigest?: Digest;
}

/**
 * Checks that an image read from a store is complete and consistent, and returns every issue
 * found with its JSON path. It validates the manifest and config documents, then checks the
 * config and layer blobs against the manifest and the diff IDs against the layers. Tag checks
 * across several `manifest.json` entries belong to `validateDockerArchiveManifest`.
 */
export function validateImage(facts: ImageFacts): ValidationIssue[] {
  const issues = new IssueCollector();

  const layers =
    facts.format === 'oci' ? checkOciImage(facts, issues) : checkDockerArchiveImage(facts, issues);
  const diffIds = checkConfig(facts.config, issues);
  if (layers !== undefined && diffIds !== undefined) {
    checkDiffIds(layers, diffIds, facts.diffIds ?? [], facts.format, issues);
  }
  return issues.issues;
}

/** Parses and validates the config bytes, returning the diff IDs when `rootfs.diff_ids` is a list. */
function checkConfig(bytes: Uint8Array | undefined, issues: IssueCollector): unknown[] | undefined {
  if (bytes === undefined) {
    return undefined;
  }

  let doc: unknown;
  try {
    // A byte order mark is kept so that JSON.parse rejects it, as Go's encoding/json does.
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    doc = JSON.parse(text);
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    issues.add('config', `expected a UTF-8 JSON document, found bytes that do not parse: ${cause}`);
    return undefined;
  }

  issues.nest('config', validateImageConfig(doc));
  const rootfs = isRecord(doc) && isRecord(doc.rootfs) ? doc.rootfs : {};
  return Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids : undefined;
}

/**
 * Checks that the config lists one diff ID per layer, and that each diff ID equals the one the
 * reader computed, or the digest of an uncompressed OCI layer when none was computed.
 */
function checkDiffIds(
  layers: LayerSlot[],
  declared: unknown[],
  computed: readonly (Digest | undefined)[],
  format: ImageFacts['format'],
  issues: IssueCollector,
): void {
  if (declared.length !== layers.length) {
    const layersPath = format === 'oci' ? 'manifest.layers' : 'manifest.Layers';
    issues.add(
      'config.rootfs.diff_ids',
      `expected ${layers.length} diff IDs, one per layer in ${layersPath}, found ${declared.length}`,
    );
  }

  layers.forEach((layer, index) => {
    const found = declared[index];
    const expected = computed[index] ?? layer.uncompressedDigest;
    if (expected === undefined || typeof found !== 'string' || !isDigest(found)) {
      return;
    }
    if (!sameAlgorithm(expected, found) || expected === found) {
      return;
    }

    const source =
      computed[index] === undefined
        ? `the digest of uncompressed layer ${layer.path}`
        : `the diff ID computed from layer ${layer.path}`;
    const elsewhere = declared.indexOf(expected);
    const order =
      elsewhere >= 0
        ? `, which is listed at config.rootfs.diff_ids[${elsewhere}], so the layers and diff IDs are in different orders`
        : '';
    issues.add(
      indexPath('config.rootfs.diff_ids', index),
      `expected ${expected}, ${source}, found ${found}${order}`,
    );
  });
}

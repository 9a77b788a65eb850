import {
  Annotations,
  blobPath,
  type Digest,
  isDigest,
  isIndexMediaType,
  isManifestMediaType,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
  type ValidationIssue,
  validateIndex,
  validateOciLayout,
} from '@storepack/image-spec';
import type { BlobDigests } from './blob-digest.js';
import { asRecord, issuesIn, locate, parseDocument } from './image-document.js';
import type { ImageInspection, ManifestSummary } from './image-inspection.js';
import type { Logger } from './logger.js';
import { readOciManifest } from './oci-manifest-reader.js';

/** Blobs and top-level files of an OCI image layout, in a folder or an archive. */
export interface OciBlobSource {
  /** Reads the `oci-layout` or `index.json` file, or returns undefined when it is missing. */
  file(name: typeof OCI_LAYOUT_FILE | typeof OCI_INDEX_FILE): Promise<BlobDigests | undefined>;
  /** Reads the blob with this digest from `blobs/`, or returns undefined when it is missing. */
  blob(digest: Digest): Promise<BlobDigests | undefined>;
}

/** Nested indexes followed below `index.json`, more than any multi-platform image needs. */
const MAX_INDEX_DEPTH = 4;

/** Index entries read in all, so that a small crafted layout cannot make the walk explode. */
const MAX_INDEX_ENTRIES = 10_000;

/**
 * Summarises and checks an OCI image layout: `oci-layout`, `index.json`, every index it names and
 * every image manifest, one summary each. Descriptors of other media types, such as artifacts, are
 * skipped.
 */
export async function readOciImage(
  source: OciBlobSource,
  logger?: Logger,
): Promise<Omit<ImageInspection, 'format'>> {
  const issues: ValidationIssue[] = [];
  const layout = await source.file(OCI_LAYOUT_FILE);
  if (layout === undefined) {
    issues.push({ path: OCI_LAYOUT_FILE, message: 'missing from the image layout' });
  } else {
    const parsed = parseDocument(layout, OCI_LAYOUT_FILE);
    issues.push(
      ...(parsed.ok ? issuesIn(OCI_LAYOUT_FILE, validateOciLayout(parsed.value)) : [parsed.issue]),
    );
  }

  const manifests: ManifestSummary[] = [];
  const index = await source.file(OCI_INDEX_FILE);
  if (index === undefined) {
    issues.push({ path: OCI_INDEX_FILE, message: 'missing from the image layout' });
  } else {
    const parsed = parseDocument(index, OCI_INDEX_FILE);
    if (parsed.ok) {
      const walk: IndexWalk = {
        source,
        issues,
        manifests,
        summaries: new Map(),
        indexes: new Set(),
        entries: 0,
        ...(logger ? { logger } : {}),
      };
      await readIndex(parsed.value, OCI_INDEX_FILE, [], 0, walk);
    } else {
      issues.push(parsed.issue);
    }
  }

  const references = manifests.flatMap((manifest) => manifest.references);
  return { references: [...new Set(references)], manifests, issues };
}

interface IndexWalk {
  source: OciBlobSource;
  issues: ValidationIssue[];
  manifests: ManifestSummary[];
  /** The summary of each manifest read so far, so that one listed twice is summarised once. */
  summaries: Map<Digest, ManifestSummary>;
  /** Nested indexes read so far; each is followed once. */
  indexes: Set<Digest>;
  /** Index entries read so far, against MAX_INDEX_ENTRIES. */
  entries: number;
  logger?: Logger;
}

/** Checks an index and reads the manifests and nested indexes it lists, in order. */
async function readIndex(
  index: unknown,
  document: string,
  references: string[],
  depth: number,
  walk: IndexWalk,
): Promise<void> {
  walk.issues.push(...issuesIn(document, validateIndex(index)));
  const entries = asRecord(index)?.manifests;
  if (!Array.isArray(entries)) {
    return;
  }

  for (const [position, value] of entries.entries()) {
    const where = locate(document, `manifests[${position}]`);
    walk.entries += 1;
    if (walk.entries > MAX_INDEX_ENTRIES) {
      walk.issues.push({
        path: where,
        message: `expected at most ${MAX_INDEX_ENTRIES} index entries in the whole image, found more`,
      });
      return;
    }
    const descriptor = asRecord(value);
    const digest = descriptor?.digest;
    const mediaType = descriptor?.mediaType;
    if (typeof digest !== 'string' || !isDigest(digest) || typeof mediaType !== 'string') {
      continue; // validateIndex has reported the broken descriptor
    }
    const refName = asRecord(descriptor?.annotations)?.[Annotations.refName];
    const names = typeof refName === 'string' ? [...references, refName] : references;

    if (isManifestMediaType(mediaType)) {
      // A manifest listed again, such as under a second tag, adds its names to the one summary.
      const seen = walk.summaries.get(digest);
      if (seen !== undefined) {
        seen.references = [...new Set([...seen.references, ...names])];
        continue;
      }
      const blob = await readDescribedBlob(descriptor ?? {}, digest, where, walk);
      const summary = await readOciManifest(digest, blob, {
        where,
        references: names,
        indexPlatform: descriptor?.platform,
        source: walk.source,
        issues: walk.issues,
      });
      walk.summaries.set(digest, summary);
      walk.manifests.push(summary);
    } else if (isIndexMediaType(mediaType)) {
      if (walk.indexes.has(digest)) {
        continue;
      }
      walk.indexes.add(digest);
      if (depth >= MAX_INDEX_DEPTH) {
        walk.issues.push({
          path: where,
          message: `expected at most ${MAX_INDEX_DEPTH} levels of nested indexes, found more`,
        });
        continue;
      }
      const blob = await readDescribedBlob(descriptor ?? {}, digest, where, walk);
      const parsed = blob === undefined ? undefined : parseDocument(blob, blobPath(digest));
      if (parsed?.ok === false) {
        walk.issues.push(parsed.issue);
      } else if (parsed?.ok) {
        await readIndex(parsed.value, blobPath(digest), names, depth + 1, walk);
      }
    } else {
      walk.logger?.debug('skipping a descriptor that is not an image manifest', {
        digest,
        mediaType,
      });
    }
  }
}

/** Reads the blob an index entry points to and checks it against the entry's size and digest. */
async function readDescribedBlob(
  descriptor: Record<string, unknown>,
  digest: Digest,
  where: string,
  walk: IndexWalk,
): Promise<BlobDigests | undefined> {
  const blob = await walk.source.blob(digest);
  if (blob === undefined) {
    walk.issues.push({ path: where, message: `blob ${digest} not found in the image` });
    return undefined;
  }
  if (typeof descriptor.size === 'number' && descriptor.size !== blob.size) {
    walk.issues.push({
      path: `${where}.size`,
      message: `expected ${blob.size}, the size of blob ${digest}, found ${descriptor.size}`,
    });
  }
  if (digest.startsWith('sha256:') && blob.digest !== digest) {
    walk.issues.push({
      path: `${where}.digest`,
      message: `expected ${blob.digest}, the digest of the blob's content, found ${digest}`,
    });
  }
  return blob;
}

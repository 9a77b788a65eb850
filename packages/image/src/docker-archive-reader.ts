import {
  DOCKER_ARCHIVE_MANIFEST_PATH,
  type ImageFacts,
  layerMediaType,
  type ValidationIssue,
  validateDockerArchiveManifest,
} from '@storepack/image-spec';
import type { BlobDigests } from './blob-digest.js';
import { summariseConfig } from './config-summary.js';
import { asRecord, issuesIn, parseDocument, uniqueIssues } from './image-document.js';
import { checkImageFacts } from './image-facts.js';
import type { ImageInspection, LayerSummary, ManifestSummary } from './image-inspection.js';
import { findMember, type TarMembers } from './tar-members.js';

/**
 * Summarises and checks a docker-archive, the format of `docker save`, `podman save` and
 * `storepack build`, from its hashed members: one summary per `manifest.json` entry.
 */
export function readDockerArchive(members: TarMembers): Omit<ImageInspection, 'format'> {
  const issues: ValidationIssue[] = [];
  const manifestBlob = findMember(members, DOCKER_ARCHIVE_MANIFEST_PATH);
  if (manifestBlob === undefined) {
    issues.push({ path: DOCKER_ARCHIVE_MANIFEST_PATH, message: 'missing from the archive' });
    return { references: [], manifests: [], issues };
  }
  const parsed = parseDocument(manifestBlob, DOCKER_ARCHIVE_MANIFEST_PATH);
  if (!parsed.ok) {
    return { references: [], manifests: [], issues: [parsed.issue] };
  }
  issues.push(
    ...issuesIn(DOCKER_ARCHIVE_MANIFEST_PATH, validateDockerArchiveManifest(parsed.value)),
  );

  const entries = Array.isArray(parsed.value) ? parsed.value : [];
  const manifests = entries.map((entry: unknown, index) =>
    readEntry(entry, `${DOCKER_ARCHIVE_MANIFEST_PATH}[${index}]`, members, issues),
  );
  // validateImage checks each entry again, so its issues repeat those of the whole file.
  return {
    references: manifests.flatMap((manifest) => manifest.references),
    manifests,
    issues: uniqueIssues(issues),
  };
}

/** Summarises one image of `manifest.json`, adding the issues of its config and blobs. */
function readEntry(
  value: unknown,
  where: string,
  members: TarMembers,
  issues: ValidationIssue[],
): ManifestSummary {
  const entry = asRecord(value) ?? {};
  const blobs = new Map<string, BlobDigests>();
  const lookUp = (name: unknown): BlobDigests | undefined => {
    const blob = typeof name === 'string' ? findMember(members, name) : undefined;
    if (blob !== undefined) {
      blobs.set(name as string, blob);
    }
    return blob;
  };

  const configName = typeof entry.Config === 'string' ? entry.Config : undefined;
  const configBlob = lookUp(configName);
  const config =
    configBlob === undefined || configName === undefined
      ? undefined
      : parseDocument(configBlob, configName);
  if (config?.ok === false) {
    issues.push(config.issue);
  }
  const configDocument = config?.ok ? config : undefined;

  const layerNames = Array.isArray(entry.Layers) ? entry.Layers : [];
  const layers = layerNames.map((name: unknown, index): LayerSummary => {
    const blob = lookUp(name);
    if (blob?.gzipError !== undefined) {
      issues.push({
        path: `${where}.Layers[${index}]`,
        message: `expected a readable gzip stream, found one that fails: ${blob.gzipError}`,
      });
    }
    return {
      digest: blob?.digest,
      mediaType: blob === undefined ? undefined : dockerMediaType(blob),
      size: blob?.size,
      diffId: blob?.diffId,
    };
  });

  const facts: ImageFacts = {
    format: 'docker-archive',
    manifest: value,
    config: configDocument?.bytes,
    ...(configName === undefined ? {} : { configName }),
    blobs,
    diffIds: layers.map((layer) => layer.diffId),
  };
  issues.push(
    ...checkImageFacts(facts, {
      manifest: where,
      config: configBlob === undefined ? undefined : configName,
      configUnreadable: config?.ok === false,
    }),
  );

  const references = Array.isArray(entry.RepoTags)
    ? entry.RepoTags.filter((tag): tag is string => typeof tag === 'string')
    : [];
  return {
    digest: undefined,
    references,
    ...summariseConfig(configDocument?.value),
    configDigest: configBlob?.digest,
    layers,
    totalSize: (configBlob?.size ?? 0) + layers.reduce((sum, layer) => sum + (layer.size ?? 0), 0),
  };
}

/** Returns the Docker layer media type of a member, from the compression its first bytes show. */
function dockerMediaType(blob: BlobDigests): string {
  if (blob.compression === 'bzip2') return 'application/x-bzip2';
  if (blob.compression === 'xz') return 'application/x-xz';
  return layerMediaType(blob.compression, 'docker');
}

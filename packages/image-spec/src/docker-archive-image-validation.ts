import { computeDigest, type Digest, sameAlgorithm } from './digest.js';
import { validateDockerArchiveManifest } from './docker-archive-validation.js';
import { quoteShort } from './errors.js';
import type { ImageFacts, LayerSlot } from './image-validation.js';
import { type IssueCollector, indexPath, isRecord } from './validation.js';

/** Checks a docker-archive `manifest.json` entry and its files, returning its layers when listed. */
export function checkDockerArchiveImage(
  facts: ImageFacts,
  issues: IssueCollector,
): LayerSlot[] | undefined {
  // The entry is validated as a one-entry manifest.json, whose paths start with "[0]".
  const entryIssues = validateDockerArchiveManifest([facts.manifest]).map((issue) => ({
    ...issue,
    path: issue.path.replace(/^\[0\]\.?/, ''),
  }));
  issues.nest('manifest', entryIssues);
  const entry = isRecord(facts.manifest) ? facts.manifest : {};

  const configFile = typeof entry.Config === 'string' ? entry.Config : undefined;
  if (
    configFile !== undefined &&
    facts.configName !== undefined &&
    facts.configName !== configFile
  ) {
    issues.add(
      'manifest.Config',
      `expected the config to be read from ${quoteShort(configFile)}, found it read from ${quoteShort(facts.configName)}`,
    );
  }
  if (facts.config === undefined) {
    if (configFile === undefined) {
      issues.add('config', 'missing config: expected the bytes of the image config, found none');
    } else {
      issues.add(
        'manifest.Config',
        `expected config file ${quoteShort(configFile)} in the archive, found no such file`,
      );
    }
  } else if (configFile !== undefined) {
    checkNamedDigest(configFile, computeDigest(facts.config), 'manifest.Config', issues);
  }

  if (!Array.isArray(entry.Layers)) {
    return undefined;
  }
  return entry.Layers.map((layer: unknown, index) => {
    const path = indexPath('manifest.Layers', index);
    if (typeof layer !== 'string') {
      return { path };
    }

    const file = facts.blobs.get(layer);
    if (file === undefined) {
      issues.add(
        path,
        `expected layer file ${quoteShort(layer)} in the archive, found no such file`,
      );
    } else if (file.digest !== undefined) {
      checkNamedDigest(layer, file.digest, path, issues);
    }
    return { path };
  });
}

const BLOB_NAME = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

/**
 * Checks that an archive file named `blobs/<algorithm>/<hex>`, as Docker 25 and later write
 * them, has the digest its name states. Other names carry no digest and are not checked.
 */
function checkNamedDigest(
  name: string,
  actual: Digest,
  path: string,
  issues: IssueCollector,
): void {
  const match = BLOB_NAME.exec(name);
  if (match === null) {
    return;
  }

  const named = `${match[1]}:${match[2]}`;
  if (sameAlgorithm(named as Digest, actual) && named !== actual) {
    issues.add(path, `expected file ${quoteShort(name)} to have digest ${named}, found ${actual}`);
  }
}

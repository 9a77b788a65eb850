import { ImageSpecError } from './errors.js';
import { parseRepoTag } from './reference.js';
import {
  describeValue,
  IssueCollector,
  indexPath,
  memberPath,
  type ValidationIssue,
} from './validation.js';

/**
 * Checks the `manifest.json` of a `docker save` archive and returns every issue found, with its
 * JSON path: member types, safe relative paths inside the archive and well-formed, unique tags.
 */
export function validateDockerArchiveManifest(doc: unknown): ValidationIssue[] {
  const issues = new IssueCollector();
  if (!Array.isArray(doc)) {
    issues.add('', `expected an array of image entries, found ${describeValue(doc)}`);
    return issues.issues;
  }
  if (doc.length === 0) {
    issues.add('', 'expected at least one image entry, found an empty array');
  }

  // The same tag on two images leaves which one it names up to the loader.
  const tagOwners = new Map<string, number>();
  doc.forEach((entry: unknown, index) => {
    const path = indexPath('', index);
    if (!issues.object(entry, path)) {
      return;
    }

    checkArchivePath(entry.Config, memberPath(path, 'Config'), issues);
    checkLayers(entry.Layers, memberPath(path, 'Layers'), issues);
    checkRepoTags(entry.RepoTags, memberPath(path, 'RepoTags'), issues, (repoTag, tagPath) => {
      const owner = tagOwners.get(repoTag);
      if (owner !== undefined && owner !== index) {
        issues.add(tagPath, `tag ${JSON.stringify(repoTag)} is already given to image [${owner}]`);
      }
      tagOwners.set(repoTag, owner ?? index);
    });
  });
  return issues.issues;
}

function checkLayers(value: unknown, path: string, issues: IssueCollector): void {
  if (value === undefined) {
    issues.add(path, 'missing required array of layer paths');
    return;
  }
  if (!Array.isArray(value)) {
    issues.add(path, `expected an array of layer paths, found ${describeValue(value)}`);
    return;
  }
  value.forEach((layer: unknown, index) => {
    checkArchivePath(layer, indexPath(path, index), issues);
  });
}

function checkRepoTags(
  value: unknown,
  path: string,
  issues: IssueCollector,
  onTag: (repoTag: string, tagPath: string) => void,
): void {
  // Untagged images have null or no RepoTags.
  if (value === undefined || value === null) {
    return;
  }

  issues.stringArray(value, path, (repoTag, tagPath) => {
    try {
      parseRepoTag(repoTag);
    } catch (error) {
      if (!(error instanceof ImageSpecError)) {
        throw error;
      }
      issues.add(tagPath, error.message);
      return;
    }
    onTag(repoTag, tagPath);
  });
}

/** Checks a path to a member of the archive: relative, with no empty, "." or ".." component. */
function checkArchivePath(value: unknown, path: string, issues: IssueCollector): void {
  if (value === undefined) {
    issues.add(path, 'missing required path inside the archive');
    return;
  }
  if (!issues.string(value, path, true)) {
    return;
  }

  const components = value.split('/');
  if (value.startsWith('/')) {
    issues.add(path, `expected a path relative to the archive root, found ${describeValue(value)}`);
  } else if (
    components.some((component) => component === '' || component === '.' || component === '..')
  ) {
    issues.add(
      path,
      `expected a path with no empty, "." or ".." component, such as "<id>/layer.tar", found ${describeValue(value)}`,
    );
  } else if (value.includes('\0')) {
    issues.add(path, 'expected a path without NUL characters');
  }
}

import { isDigest } from './digest.js';
import {
  describeValue,
  IssueCollector,
  indexPath,
  memberPath,
  type ValidationIssue,
} from './validation.js';

/** Exposed port key: a port number with an optional `/tcp`, `/udp` or `/sctp`. */
const PORT_KEY = /^(\d{1,5})(?:\/(?:tcp|udp|sctp))?$/;

/**
 * Checks a Docker or OCI image config and returns every issue found, with its JSON path. Members
 * that Docker writes as null (`Cmd`, `Entrypoint`, `Env`, `Labels`, …) are accepted as absent.
 */
export function validateImageConfig(doc: unknown): ValidationIssue[] {
  const issues = new IssueCollector();
  if (!issues.object(doc, '')) {
    return issues.issues;
  }

  issues.requiredString(doc, 'architecture', '');
  issues.requiredString(doc, 'os', '');
  issues.optionalString(doc, 'variant', '');
  issues.optionalString(doc, 'author', '');
  issues.optionalDate(doc, 'created', '');

  if (doc.config !== undefined && doc.config !== null) {
    checkContainerConfig(doc.config, 'config', issues);
  }
  const layerCount = checkRootfs(doc.rootfs, issues);
  if (doc.history !== undefined && doc.history !== null) {
    checkHistory(doc.history, layerCount, issues);
  }
  return issues.issues;
}

/** Checks `rootfs` and returns the number of diff IDs, or undefined when there is no list. */
function checkRootfs(rootfs: unknown, issues: IssueCollector): number | undefined {
  if (rootfs === undefined) {
    issues.add('rootfs', 'missing required object with "type" and "diff_ids"');
    return undefined;
  }
  if (!issues.object(rootfs, 'rootfs')) {
    return undefined;
  }

  if (rootfs.type !== 'layers') {
    issues.add('rootfs.type', `expected "layers", found ${describeValue(rootfs.type)}`);
  }
  if (!Array.isArray(rootfs.diff_ids)) {
    issues.add(
      'rootfs.diff_ids',
      `expected an array of digests, found ${describeValue(rootfs.diff_ids)}`,
    );
    return undefined;
  }

  rootfs.diff_ids.forEach((diffId: unknown, index) => {
    if (typeof diffId !== 'string' || !isDigest(diffId)) {
      issues.add(
        indexPath('rootfs.diff_ids', index),
        `expected a digest such as "sha256:" followed by 64 lower-case hex digits, found ${describeValue(diffId)}`,
      );
    }
  });
  return rootfs.diff_ids.length;
}

/** Checks the history list and that its non-empty entries match the layers one to one. */
function checkHistory(
  history: unknown,
  layerCount: number | undefined,
  issues: IssueCollector,
): void {
  if (!Array.isArray(history)) {
    issues.add('history', `expected an array, found ${describeValue(history)}`);
    return;
  }

  let layerEntries = 0;
  history.forEach((entry: unknown, index) => {
    const path = indexPath('history', index);
    if (!issues.object(entry, path)) {
      return;
    }
    issues.optionalDate(entry, 'created', path);
    issues.optionalString(entry, 'created_by', path);
    issues.optionalString(entry, 'author', path);
    issues.optionalString(entry, 'comment', path);
    if (entry.empty_layer !== undefined && typeof entry.empty_layer !== 'boolean') {
      issues.add(
        memberPath(path, 'empty_layer'),
        `expected a boolean, found ${describeValue(entry.empty_layer)}`,
      );
    }
    if (entry.empty_layer !== true) {
      layerEntries += 1;
    }
  });

  // Tools such as `docker history` pair non-empty entries with layers in order, so an empty list
  // is allowed but a partial one is not.
  if (history.length > 0 && layerCount !== undefined && layerEntries !== layerCount) {
    issues.add(
      'history',
      `expected ${layerCount} entries without "empty_layer": true, one per diff ID, found ${layerEntries}`,
    );
  }
}

/** Checks the execution parameters in `config`. */
function checkContainerConfig(value: unknown, path: string, issues: IssueCollector): void {
  if (!issues.object(value, path)) {
    return;
  }

  issues.optionalString(value, 'User', path);
  issues.optionalString(value, 'WorkingDir', path);
  issues.optionalString(value, 'StopSignal', path);
  for (const key of ['Entrypoint', 'Cmd']) {
    if (value[key] !== undefined && value[key] !== null) {
      issues.stringArray(value[key], memberPath(path, key));
    }
  }

  if (value.Env !== undefined && value.Env !== null) {
    issues.stringArray(value.Env, memberPath(path, 'Env'), (item, itemPath) => {
      if (item.indexOf('=') < 1) {
        issues.add(itemPath, `expected NAME=value, found ${describeValue(item)}`);
      }
    });
  }
  if (value.Labels !== undefined && value.Labels !== null) {
    const labelsPath = memberPath(path, 'Labels');
    if (issues.object(value.Labels, labelsPath)) {
      for (const [key, label] of Object.entries(value.Labels)) {
        issues.string(label, memberPath(labelsPath, key));
      }
    }
  }

  checkEmptyObjectMap(value.ExposedPorts, memberPath(path, 'ExposedPorts'), issues, (key) =>
    isPortKey(key) ? undefined : 'expected a port such as "8080/tcp" (1-65535, tcp, udp or sctp)',
  );
  checkEmptyObjectMap(value.Volumes, memberPath(path, 'Volumes'), issues, (key) =>
    key.startsWith('/') ? undefined : 'expected an absolute path',
  );
  if (value.Healthcheck !== undefined && value.Healthcheck !== null) {
    checkHealthcheck(value.Healthcheck, memberPath(path, 'Healthcheck'), issues);
  }
}

function isPortKey(key: string): boolean {
  const match = PORT_KEY.exec(key);
  const port = Number(match?.[1]);
  return match !== null && port >= 1 && port <= 65535;
}

/** Checks a map such as `ExposedPorts` whose keys carry the data and whose values are `{}`. */
function checkEmptyObjectMap(
  value: unknown,
  path: string,
  issues: IssueCollector,
  checkKey: (key: string) => string | undefined,
): void {
  if (value === undefined || value === null || !issues.object(value, path)) {
    return;
  }

  for (const [key, member] of Object.entries(value)) {
    const keyProblem = checkKey(key);
    if (keyProblem !== undefined) {
      issues.add(memberPath(path, key), `${keyProblem}, found key ${describeValue(key)}`);
    }
    if (issues.object(member, memberPath(path, key)) && Object.keys(member).length > 0) {
      issues.add(memberPath(path, key), 'expected an empty object {}');
    }
  }
}

function checkHealthcheck(value: unknown, path: string, issues: IssueCollector): void {
  if (!issues.object(value, path)) {
    return;
  }

  if (value.Test !== undefined && value.Test !== null) {
    const testPath = memberPath(path, 'Test');
    if (issues.stringArray(value.Test, testPath)) {
      const kind = value.Test[0];
      if (kind !== undefined && !['NONE', 'CMD', 'CMD-SHELL'].includes(kind)) {
        issues.add(
          indexPath(testPath, 0),
          `expected "NONE", "CMD" or "CMD-SHELL", found ${describeValue(kind)}`,
        );
      }
    }
  }
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) {
    issues.optionalInteger(value, key, path);
  }
}

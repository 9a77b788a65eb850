import type { ValidationIssue } from '@storepack/image-spec';
import { type BlobDigests, MAX_JSON_BYTES } from './blob-digest.js';

/** A JSON document of an image, parsed, or the issue that kept it from being parsed. */
export type ParsedDocument =
  | { ok: true; value: unknown; bytes: Buffer }
  | { ok: false; issue: ValidationIssue };

/**
 * Parses a manifest, index, config or layout file that `digestBlob` kept. `document` names the
 * file for the issue, such as `manifest.json` or `blobs/sha256/<hex>`.
 */
export function parseDocument(blob: BlobDigests, document: string): ParsedDocument {
  if (blob.json === undefined) {
    const message =
      blob.size > MAX_JSON_BYTES
        ? `expected a JSON document of at most ${MAX_JSON_BYTES} bytes, found ${blob.size} bytes`
        : `expected a JSON document, found ${blob.size} bytes that do not start with "{" or "["`;
    return { ok: false, issue: { path: document, message } };
  }

  try {
    return { ok: true, value: JSON.parse(blob.json.toString('utf8')), bytes: blob.json };
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      issue: { path: document, message: `expected a JSON document, found invalid JSON: ${cause}` },
    };
  }
}

/**
 * Places issues that a validator found inside `document` under that file's name, so that
 * `[0].Layers[1]` in `manifest.json` becomes `manifest.json[0].Layers[1]` and `rootfs.type` in a
 * config blob becomes `blobs/sha256/<hex>.rootfs.type`.
 */
export function issuesIn(document: string, issues: readonly ValidationIssue[]): ValidationIssue[] {
  return issues.map(({ path, message }) => ({ path: locate(document, path), message }));
}

/** Joins a file name and a JSON path inside it. */
export function locate(document: string, path: string): string {
  if (path === '') {
    return document;
  }
  return path.startsWith('[') ? `${document}${path}` : `${document}.${path}`;
}

/** Returns `value` as a JSON object, or undefined when it is an array, null or not an object. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Drops repeated issues, keeping the first of each path and message. */
export function uniqueIssues(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter(({ path, message }) => {
    const key = `${path}\n${message}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

import type { ImageInspection, LayerSummary, ManifestSummary } from '@storepack/image';
import { formatIssue, formatPlatform } from '@storepack/image-spec';

/** Column width of the labels in the text summary. */
const LABEL_WIDTH = 13;

/**
 * Formats an inspection as the text that `storepack inspect` prints: the format and references,
 * one block per manifest, then every issue as `path: message`.
 */
export function formatInspection(inspection: ImageInspection): string {
  const lines = [field('Format', inspection.format), ...list('References', inspection.references)];

  inspection.manifests.forEach((manifest, index) => {
    lines.push('');
    if (inspection.manifests.length > 1) {
      lines.push(`Manifest ${index + 1} of ${inspection.manifests.length}`);
    }
    lines.push(...manifestLines(manifest));
  });

  lines.push('');
  if (inspection.issues.length === 0) {
    lines.push('Valid: no issues found');
  } else {
    const count = inspection.issues.length;
    lines.push(`Invalid: ${count} ${count === 1 ? 'issue' : 'issues'}`);
    lines.push(...inspection.issues.map(formatIssue));
  }
  return `${lines.map(escapeControls).join('\n')}\n`;
}

/**
 * Writes control characters from the image, such as escape sequences or newlines in an env value,
 * as `\x1b`-style escapes, so that an image cannot drive the terminal or forge output lines.
 */
function escapeControls(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point here.
  return line.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => {
    return `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/**
 * Formats an inspection as the one JSON object of `storepack inspect --json`, with the fields in
 * the documented order. Absent values are written as null, so that every field is present.
 */
export function formatInspectionJson(inspection: ImageInspection): string {
  const document = {
    format: inspection.format,
    references: inspection.references,
    manifests: inspection.manifests.map((manifest) => ({
      digest: manifest.digest ?? null,
      references: manifest.references,
      platform: manifest.platform ?? null,
      configDigest: manifest.configDigest ?? null,
      created: manifest.created ?? null,
      entrypoint: manifest.entrypoint ?? null,
      cmd: manifest.cmd ?? null,
      env: manifest.env ?? null,
      workingDir: manifest.workingDir ?? null,
      user: manifest.user ?? null,
      layers: manifest.layers.map((layer) => ({
        digest: layer.digest ?? null,
        mediaType: layer.mediaType ?? null,
        size: layer.size ?? null,
        diffId: layer.diffId ?? null,
      })),
      totalSize: manifest.totalSize,
    })),
    issues: inspection.issues.map(({ path, message }) => ({ path, message })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function manifestLines(manifest: ManifestSummary): string[] {
  const lines: string[] = [];
  if (manifest.digest !== undefined) {
    lines.push(field('Digest', manifest.digest));
  }
  if (manifest.references.length > 0) {
    lines.push(...list('Tags', manifest.references));
  }
  lines.push(
    field('Platform', manifest.platform ? formatPlatform(manifest.platform) : '(unknown)'),
    field('Config', manifest.configDigest ?? '(unknown)'),
    field('Created', manifest.created ?? '(not set)'),
    field('Entrypoint', command(manifest.entrypoint)),
    field('Cmd', command(manifest.cmd)),
    ...list('Env', manifest.env ?? []),
    field('WorkingDir', manifest.workingDir || '(not set)'),
    field('User', manifest.user || '(not set)'),
    field('Layers', String(manifest.layers.length)),
    ...manifest.layers.flatMap(layerLines),
    field('Total size', formatSize(manifest.totalSize)),
  );
  return lines;
}

function layerLines(layer: LayerSummary, index: number): string[] {
  const size = layer.size === undefined ? '?' : formatSize(layer.size);
  const indent = ' '.repeat(LABEL_WIDTH + 2);
  return [
    `${indent}${index + 1}. ${layer.digest ?? '(no digest)'}  ${size}  ${layer.mediaType ?? '(missing)'}`,
    `${indent}   diff ID ${layer.diffId ?? '(not computed)'}`,
  ];
}

/** Formats an exec-form command as JSON, the form a Dockerfile's ENTRYPOINT and CMD take. */
function command(args: string[] | undefined): string {
  return args === undefined || args.length === 0 ? '(not set)' : JSON.stringify(args);
}

function field(label: string, value: string): string {
  return `${`${label}:`.padEnd(LABEL_WIDTH)}  ${value}`;
}

/** Formats a list with one value per line, the first beside the label, `(none)` when empty. */
function list(label: string, values: string[]): string[] {
  if (values.length === 0) {
    return [field(label, '(none)')];
  }
  const indent = ' '.repeat(LABEL_WIDTH + 2);
  return values.map((value, index) => (index === 0 ? field(label, value) : `${indent}${value}`));
}

/** Formats a byte count in IEC units, adding the exact count from 1 KiB up. */
function formatSize(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}

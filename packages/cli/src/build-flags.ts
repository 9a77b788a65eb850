import type { ParseArgsConfig } from 'node:util';
import {
  type ImageOptions,
  type OutputFormat,
  PLANNER_NAMES,
  type PlannerName,
  parseCommand,
  parseCreated,
  parseExposedPort,
  parseExtraDirectory,
  parseKeyValue,
  parseSymlink,
} from '@storepack/image';
import type { LayerCompression } from '@storepack/image-spec';
import { sourceDateEpoch } from './source-date-epoch.js';
import { UsageError } from './usage-error.js';

/** The options of `storepack build`, for node:util's parseArgs. */
export const buildFlags = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string' },
  tag: { type: 'string', short: 't', multiple: true },
  system: { type: 'string', multiple: true },
  entrypoint: { type: 'string' },
  cmd: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  workdir: { type: 'string' },
  user: { type: 'string' },
  label: { type: 'string', multiple: true },
  expose: { type: 'string', multiple: true },
  symlink: { type: 'string', multiple: true },
  'extra-dir': { type: 'string', multiple: true },
  created: { type: 'string' },
  annotation: { type: 'string', multiple: true },
  push: { type: 'string' },
  layers: { type: 'string' },
  'max-layers': { type: 'string' },
  compress: { type: 'string' },
  cache: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'insecure-registry': { type: 'string', multiple: true },
  'closure-from': { type: 'string' },
  db: { type: 'string' },
  'store-dir': { type: 'string' },
  root: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Parsed values of {@link buildFlags}. */
export type BuildFlagValues = {
  [Name in keyof typeof buildFlags]?: (typeof buildFlags)[Name] extends { type: 'boolean' }
    ? boolean
    : (typeof buildFlags)[Name] extends { multiple: true }
      ? string[]
      : string;
};

const formats: OutputFormat[] = ['docker-archive', 'oci', 'oci-archive'];

/** Turns the flags of `storepack build` into the image library's options; a bad value is a usage error. */
export function imageOptionsFromFlags(
  values: BuildFlagValues,
  paths: string[],
): ImageOptions & { format: OutputFormat } {
  for (const [name, value] of Object.entries(values)) {
    if (value === '' || (Array.isArray(value) && value.includes(''))) {
      throw new UsageError(`build: --${name} is empty: give a value`);
    }
  }
  const format = (values.format ?? 'docker-archive') as OutputFormat;
  if (!formats.includes(format)) {
    throw new UsageError(`build: invalid --format "${format}": expected ${formats.join(', ')}`);
  }
  // Besides auto, db, command and scan, --closure-from takes a closure file, which the closure
  // library reads and checks, so every non-empty value is passed on.
  const closureFrom = values['closure-from'] ?? 'auto';
  if (values.annotation !== undefined && format === 'docker-archive') {
    throw new UsageError(
      'build: --annotation needs --format oci or oci-archive: a docker-archive has no manifest to annotate',
    );
  }

  const planner = values.layers ?? 'churn';
  if (!(PLANNER_NAMES as readonly string[]).includes(planner)) {
    throw new UsageError(
      `build: invalid --layers "${planner}": expected ${PLANNER_NAMES.join(', ')}`,
    );
  }
  const maxLayers = values['max-layers'] === undefined ? undefined : Number(values['max-layers']);
  if (
    maxLayers !== undefined &&
    !(Number.isSafeInteger(maxLayers) && maxLayers >= 1 && maxLayers <= 125)
  ) {
    throw new UsageError(
      `build: invalid --max-layers "${values['max-layers']}": expected a whole number from 1 to 125, such as 100`,
    );
  }
  const compression = values.compress ?? 'none';
  if (!['none', 'gzip', 'zstd'].includes(compression)) {
    throw new UsageError(`build: invalid --compress "${compression}": expected none, gzip or zstd`);
  }
  if (values.cache !== undefined && values['no-cache']) {
    throw new UsageError('build: --cache and --no-cache contradict each other: give one');
  }
  const cache = values['no-cache'] ? false : values.cache;

  const created =
    values.created === undefined
      ? sourceDateEpoch(process.env.SOURCE_DATE_EPOCH)
      : parseCreated(values.created);
  const env = values.env?.map((text) => parseKeyValue('--env', text).join('='));
  const labels =
    values.label && Object.fromEntries(values.label.map((text) => parseKeyValue('--label', text)));
  const annotations =
    values.annotation &&
    Object.fromEntries(values.annotation.map((text) => parseKeyValue('--annotation', text)));

  return {
    paths,
    format,
    planner: planner as PlannerName,
    compression: compression as LayerCompression,
    ...(maxLayers === undefined ? {} : { maxLayers }),
    ...(cache === undefined ? {} : { cache }),
    closureFrom,
    container: {
      ...(values.entrypoint === undefined
        ? {}
        : { entrypoint: parseCommand('--entrypoint', values.entrypoint) }),
      ...(values.cmd === undefined ? {} : { cmd: parseCommand('--cmd', values.cmd) }),
      ...(env === undefined ? {} : { env }),
      ...(values.workdir === undefined ? {} : { workingDir: values.workdir }),
      ...(values.user === undefined ? {} : { user: values.user }),
      ...(labels === undefined ? {} : { labels }),
      ...(values.expose === undefined ? {} : { exposedPorts: values.expose.map(parseExposedPort) }),
    },
    ...(values.symlink === undefined ? {} : { symlinks: values.symlink.map(parseSymlink) }),
    ...(values['extra-dir'] === undefined
      ? {}
      : { extraDirectories: values['extra-dir'].map(parseExtraDirectory) }),
    ...(annotations === undefined ? {} : { annotations }),
    ...(created === undefined ? {} : { created }),
    ...(values.tag === undefined ? {} : { tags: values.tag }),
    ...(values.db === undefined ? {} : { database: values.db }),
    ...(values['store-dir'] === undefined ? {} : { storeDir: values['store-dir'] }),
    ...(values.root === undefined ? {} : { root: values.root }),
  };
}

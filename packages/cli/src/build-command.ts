import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  type BuildResult,
  buildAndPushImage,
  buildMultiPlatformImage,
  defaultOutputName,
  followToStorePath,
} from '@storepack/image';
import { buildFlags, imageOptionsFromFlags } from './build-flags.js';
import { buildHelp } from './build-help.js';
import { formatBuildJson } from './build-output.js';
import { withInterruption } from './interruption.js';
import { isStandardOutput, outputTarget } from './output-target.js';
import { platformGroups } from './platform-groups.js';
import { progressDisplay } from './progress-display.js';
import { formatPushResult } from './push-output.js';
import { stderrLogger } from './stderr-logger.js';
import { UsageError } from './usage-error.js';

export { buildHelp } from './build-help.js';

/** Runs `storepack build` with the arguments after the command name; returns the exit status. */
export async function runBuild(args: string[]): Promise<number> {
  const { values, positionals, tokens } = parseArgs({
    args,
    allowPositionals: true,
    options: buildFlags,
    tokens: true,
  });
  if (values.help) {
    process.stdout.write(buildHelp);
    return 0;
  }

  const [firstPath] = positionals;
  if (firstPath === undefined) {
    throw new UsageError('build: no store path given (see storepack build --help)');
  }
  const options = imageOptionsFromFlags(values, positionals);
  const logger = stderrLogger(Boolean(process.env.STOREPACK_DEBUG));
  const images = platformGroups(tokens).map(({ system, paths }) => ({
    ...options,
    paths,
    logger,
    ...(system === undefined ? {} : { system }),
  }));
  if (values['insecure-registry'] !== undefined && values.push === undefined) {
    throw new UsageError('build: --insecure-registry applies to --push only');
  }
  if (values.push !== undefined) {
    if (values.output !== undefined) {
      throw new UsageError(
        'build: --push sends the image to a registry and writes no file: drop -o, or build to a file and run storepack push on it',
      );
    }
    const reference = values.push;
    const result = await withInterruption((signal) =>
      buildAndPushImage(images, reference, {
        insecureRegistries: values['insecure-registry'] ?? [],
        logger,
        signal,
      }),
    );
    process.stdout.write(
      values.json ? `${JSON.stringify(result, null, 2)}\n` : formatPushResult(result),
    );
    return 0;
  }

  const output =
    values.output ?? defaultOutputName(await followToStorePath(firstPath), options.format);
  if (values.json && isStandardOutput(output)) {
    throw new UsageError(
      'build: --json prints to standard output, which -o - takes for the image: write the image to a file',
    );
  }
  const target = outputTarget(output);
  const progress = progressDisplay(Boolean(values.quiet));
  const started = performance.now();
  let result: BuildResult;
  try {
    result = await withInterruption((signal) =>
      buildMultiPlatformImage(images, options.format, target, {
        signal,
        // Standard output is a pipe (a socket) or a file here, never a stream that keeps chunks.
        outputReleasesChunks: true,
        ...(progress === undefined ? {} : { onProgress: progress.report }),
      }),
    );
  } finally {
    progress?.finish();
  }
  if (values.json) {
    const seconds = Math.round(performance.now() - started) / 1000;
    process.stdout.write(formatBuildJson(result, output, seconds));
  }
  return 0;
}

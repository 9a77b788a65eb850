import { buildHelp, runBuild } from './build-command.js';
import { inspectHelp, runInspect } from './inspect-command.js';
import { UsageError } from './usage-error.js';

const mainHelp = `Usage: storepack COMMAND [OPTION]... ARGUMENT...

Turn Guix and Nix store items and their runtime closure into container images,
with no Docker daemon, no root and no network.

Commands:
  build     write a docker-archive of store items and their closure
  inspect   print a summary of an image and check it

Run 'storepack COMMAND --help' for a command's options.
`;

const commands: Record<string, { run: (args: string[]) => Promise<number>; help: string }> = {
  build: { run: runBuild, help: buildHelp },
  inspect: { run: runInspect, help: inspectHelp },
};

/**
 * Runs the storepack command line and returns the exit status: 0 on success, 1 on failure, 2 on a
 * usage error. Errors go to standard error as one line.
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(mainHelp);
    return name === undefined ? 2 : 0;
  }

  const command = commands[name];
  try {
    if (command === undefined) {
      throw new UsageError(
        `unknown command "${name}": expected one of ${Object.keys(commands).join(', ')}`,
      );
    }
    return await command.run(rest);
  } catch (error) {
    return report(error);
  }
}

/** Codes of library errors that mean the command line asked for something invalid. */
const usageErrorCodes = new Set(['INVALID_REFERENCE', 'UNKNOWN_SYSTEM', 'INVALID_OPTION']);

function report(error: unknown): number {
  if (error instanceof UsageError || isParseArgsError(error) || hasCode(error, usageErrorCodes)) {
    process.stderr.write(`storepack: ${(error as Error).message}\n`);
    return 2;
  }
  if (error instanceof Error) {
    process.stderr.write(`storepack: ${error.message}\n`);
    if (process.env.STOREPACK_DEBUG) {
      process.stderr.write(`${error.stack ?? ''}\n`);
    }
    return 1;
  }
  process.stderr.write(`storepack: ${String(error)}\n`);
  return 1;
}

function hasCode(error: unknown, codes: Set<string>): boolean {
  return error instanceof Error && 'code' in error && codes.has(String(error.code));
}

/** Errors that node:util's parseArgs throws for unknown options and missing values. */
function isParseArgsError(error: unknown): boolean {
  return (
    error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')
  );
}

import { buildHelp, runBuild } from './build-command.js';
import { closureHelp, runClosure } from './closure-command.js';
import { inspectHelp, runInspect } from './inspect-command.js';
import { pushHelp, runPush } from './push-command.js';
import { reportError } from './report-error.js';
import { UsageError } from './usage-error.js';
import { version } from './version.js';

const mainHelp = `Usage: storepack COMMAND [OPTION]... ARGUMENT...

Turn Guix and Nix store items and their runtime closure into container images,
with no Docker daemon, no root and no network but the registry it pushes to.

Commands:
  build     write an image of store items and their closure
  closure   print the runtime closure of store items, with sizes, as a tree or a graph
  inspect   print a summary of an image and check it
  push      send an image to a container registry

Options:
  -h, --help      print this help
  -V, --version   print storepack's version

Run 'storepack COMMAND --help' for a command's options.
`;

const commands: Record<string, { run: (args: string[]) => Promise<number>; help: string }> = {
  build: { run: runBuild, help: buildHelp },
  closure: { run: runClosure, help: closureHelp },
  inspect: { run: runInspect, help: inspectHelp },
  push: { run: runPush, help: pushHelp },
};

/**
 * Runs the storepack command line and returns the exit status: 0 on success, 1 on failure, 2 on a
 * usage error. Errors go to standard error as one line.
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    process.stderr.write(mainHelp);
    return 2;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(mainHelp);
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`storepack ${await version()}\n`);
    return 0;
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
    return reportError(error);
  }
}

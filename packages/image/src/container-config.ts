import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { ContainerConfig } from '@storepack/image-spec';
import { ImageError } from './errors.js';
import type { ContainerSettings } from './image-settings.js';

/**
 * Builds the config's container settings. A relative entry point is taken inside the first item,
 * and `PATH` defaults to the `bin/` folders of the items given, in their order, as `guix pack`
 * sets the search paths of what it packs.
 */
export async function createContainerConfig(
  settings: ContainerSettings,
  items: string[],
  root: string | undefined,
): Promise<ContainerConfig> {
  const config: ContainerConfig = {};
  const [mainItem] = items;

  if (settings.entrypoint !== undefined) {
    const [program, ...args] = settings.entrypoint;
    const absolute = program?.startsWith('/')
      ? program
      : posix.join(mainItem as string, program as string);
    config.Entrypoint = [absolute, ...args];
  }
  if (settings.cmd !== undefined) {
    config.Cmd = settings.cmd;
  }

  // A variable given twice keeps its first place and its last value, as `docker run -e` does.
  const byName = new Map<string, string>();
  for (const variable of settings.env ?? []) {
    byName.set(variable.slice(0, variable.indexOf('=')), variable);
  }
  const env = [...byName.values()];
  if (!env.some((variable) => variable.startsWith('PATH='))) {
    const binFolders: string[] = [];
    for (const item of items) {
      if (await isFolder(join(root ?? '/', item, 'bin'))) {
        binFolders.push(`${item}/bin`);
      }
    }
    if (binFolders.length > 0) {
      env.unshift(`PATH=${binFolders.join(':')}`);
    }
  }
  if (env.length > 0) {
    config.Env = env;
  }

  if (settings.workingDir !== undefined) {
    if (!settings.workingDir.startsWith('/')) {
      throw new ImageError(
        'INVALID_OPTION',
        `invalid --workdir "${settings.workingDir}": expected an absolute path, such as /srv`,
      );
    }
    config.WorkingDir = settings.workingDir;
  }
  if (settings.user !== undefined) {
    config.User = settings.user;
  }
  if (settings.labels !== undefined && Object.keys(settings.labels).length > 0) {
    config.Labels = settings.labels;
  }
  if (settings.exposedPorts !== undefined && settings.exposedPorts.length > 0) {
    config.ExposedPorts = Object.fromEntries(settings.exposedPorts.map((port) => [port, {}]));
  }
  return config;
}

async function isFolder(path: string): Promise<boolean> {
  const stats = await lstat(path).catch(() => undefined);
  return stats !== undefined && (stats.isDirectory() || stats.isSymbolicLink());
}

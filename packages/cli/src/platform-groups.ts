import { UsageError } from './usage-error.js';

/** The store paths of one platform's image on a `storepack build` command line. */
export interface PlatformGroup {
  system: string | undefined;
  paths: string[];
}

type Token =
  | { kind: 'option'; name: string; value?: string | undefined }
  | { kind: 'positional'; value: string }
  | { kind: 'option-terminator' };

/**
 * Groups the PATHs of `storepack build` by the `--system` before them. With no `--system` or one,
 * every PATH belongs to one image; with several, as in
 * `--system x86_64-linux A --system aarch64-linux B`, each starts the paths of its own platform.
 */
export function platformGroups(tokens: readonly Token[]): PlatformGroup[] {
  const systems = tokens.filter((token) => token.kind === 'option' && token.name === 'system');
  const positionals = tokens.flatMap((token) => (token.kind === 'positional' ? [token.value] : []));
  if (systems.length <= 1) {
    const system = systems[0]?.kind === 'option' ? systems[0].value : undefined;
    return [{ system, paths: positionals }];
  }

  const groups: PlatformGroup[] = [];
  for (const token of tokens) {
    if (token.kind === 'option' && token.name === 'system') {
      groups.push({ system: token.value, paths: [] });
    } else if (token.kind === 'positional') {
      const current = groups.at(-1);
      if (current === undefined) {
        throw new UsageError(
          `build: "${token.value}" comes before any --system: with several systems, give --system before the paths of each`,
        );
      }
      current.paths.push(token.value);
    }
  }
  const empty = groups.find((group) => group.paths.length === 0);
  if (empty !== undefined) {
    throw new UsageError(`build: --system ${empty.system} has no store path after it`);
  }
  return groups;
}

import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A small real closure built by Nix, with the store and database that hold it. */
export interface NixClosureFixture {
  /** Store path of the root item, e.g. `/nix/store/<hash>-hello-app-2.12`. */
  root: string;
  /** Store directory that contains every item: `/nix/store` or `/gnu/store`. */
  storeDir: string;
  /** Nix state directory: `/nix/var/nix`, or the folder given for the Guix layout. */
  stateDir: string;
  /** Store database, `db/db.sqlite` under the state directory. */
  dbPath: string;
  /** Store URI for `nix-store --store URI`; undefined for the system store. */
  storeUri: string | undefined;
  /** Store path of each item of the closure. */
  items: Record<FixtureItem, string>;
}

/** Short names of the items of the fixture closure. */
export type FixtureItem = 'app' | 'jq' | 'glibc' | 'busybox' | 'greeting';

const itemNames: Record<FixtureItem, string> = {
  app: 'hello-app-2.12',
  jq: 'jq-1.6',
  glibc: 'glibc-2.36',
  busybox: 'busybox-1.35.0',
  greeting: 'greeting-1.0',
};

// Every derivation carries this attribute, so the fixture's store paths differ from those of
// other programs that build items with the same names in a shared store. Change it to rebuild.
const fixtureTag = 'storepack-test-utils-nix-closure-1';

const libDir = '/lib/x86_64-linux-gnu';

// Input-addressed derivations copy programs from the host, so equal inputs give equal store paths
// and a second build is a no-op. The builder scripts read their inputs from environment variables
// set by the derivation attributes.
const expression = `
let
  mk = name: script: attrs: derivation ({
    inherit name;
    system = "x86_64-linux";
    builder = "/bin/sh";
    args = [ "-e" "-c" script ];
    PATH = "/usr/bin:/bin";
    storepackFixture = "${fixtureTag}";
  } // attrs);

  busybox = mk "${itemNames.busybox}" ''
    mkdir -p $out/bin
    cp /bin/busybox $out/bin/busybox
    ln -s busybox $out/bin/sh
  '' {};

  glibc = mk "${itemNames.glibc}" ''
    mkdir -p $out/lib
    cp -L /lib64/ld-linux-x86-64.so.2 ${libDir}/libc.so.6 ${libDir}/libm.so.6 $out/lib/
  '' {};

  greeting = mk "${itemNames.greeting}" ''
    mkdir -p $out/share
    echo 'hello from a store closure' > $out/share/greeting.txt
  '' {};

  jq = mk "${itemNames.jq}" ''
    mkdir -p $out/bin $out/lib
    cp -L /usr/bin/jq $out/bin/jq
    cp -L ${libDir}/libjq.so.1 ${libDir}/libonig.so.5 $out/lib/
    chmod u+w $out/bin/jq $out/lib/*
    patchelf --set-interpreter "$glibc/lib/ld-linux-x86-64.so.2" --set-rpath "$out/lib:$glibc/lib" $out/bin/jq
    for lib in $out/lib/*; do patchelf --set-rpath "$out/lib:$glibc/lib" "$lib"; done
  '' { inherit glibc; };

  app = mk "${itemNames.app}" ''
    mkdir -p $out/bin $out/share/doc
    printf '#!%s/bin/sh\\nexec %s/bin/busybox cat %s/share/greeting.txt\\n' "$busybox" "$busybox" "$greeting" > $out/bin/hello
    chmod +x $out/bin/hello
    ln -s "$jq/bin/jq" $out/bin/jq
    deep=$out/share/doc/a-folder-name-that-is-long-enough/to-push-the-relative-path-of-the-file/past-one-hundred-bytes
    mkdir -p "$deep"
    echo deep > "$deep/notes.txt"
    echo spaced > "$out/share/doc/file with spaces.txt"
    echo accented > "$out/share/doc/café-menu.txt"
  '' { inherit busybox greeting jq; };
in { inherit app jq glibc busybox greeting; }
`;

/** Folder for the Guix-layout state when the caller gives none. */
function defaultGuixStateDir(): string {
  return path.join(os.tmpdir(), 'storepack-test-guix-state');
}

/**
 * Builds the fixture closure with nix-build, offline and without a sandbox, and returns its
 * store paths. Builds from several processes are serialised with `flock` on a lock file.
 */
export async function buildNixClosure(options?: {
  layout?: 'nix' | 'guix';
  stateDir?: string;
}): Promise<NixClosureFixture> {
  for (const command of ['nix-build', 'flock', 'patchelf', 'jq', '/bin/busybox']) {
    await requireTool(command);
  }

  const layout = options?.layout ?? 'nix';
  const storeDir = layout === 'guix' ? '/gnu/store' : '/nix/store';
  const stateDir =
    layout === 'guix' ? path.resolve(options?.stateDir ?? defaultGuixStateDir()) : '/nix/var/nix';
  const nixStateDir = layout === 'guix' ? path.join(stateDir, 'state') : stateDir;
  const storeUri =
    layout === 'guix'
      ? `local?store=${storeDir}&state=${nixStateDir}&log=${path.join(stateDir, 'log')}`
      : undefined;

  // The result links are GC roots, so they sit in a fixed temp folder that later builds reuse.
  const linkDir = path.join(os.tmpdir(), 'storepack-test-nix-results', layout);
  await mkdir(linkDir, { recursive: true });
  if (layout === 'guix') {
    await mkdir(stateDir, { recursive: true });
  }

  const attributes = Object.keys(itemNames) as FixtureItem[];
  const args = [
    '--exclusive',
    path.join(os.tmpdir(), 'storepack-test-nix-build.lock'),
    'nix-build',
    ...storeArgs(storeUri),
    '--option',
    'sandbox',
    'false',
    '--option',
    'substituters',
    '',
    '--out-link',
    path.join(linkDir, 'result'),
    '--expr',
    expression,
    ...attributes.flatMap((attribute) => ['--attr', attribute]),
  ];

  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('flock', args, { maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `building the ${layout} fixture closure with nix-build failed: ${tail(stderr)}`,
      {
        cause: error,
      },
    );
  }

  // nix-build prints one output path per --attr, in the order given.
  const paths = stdout.trim().split('\n');
  if (paths.length !== attributes.length) {
    throw new Error(
      `building the fixture closure: expected ${attributes.length} store paths from nix-build, got ${JSON.stringify(stdout)}`,
    );
  }
  const items = Object.fromEntries(
    attributes.map((attribute, index) => [attribute, paths[index] as string]),
  ) as Record<FixtureItem, string>;

  return {
    root: items.app,
    storeDir,
    stateDir,
    dbPath: path.join(nixStateDir, 'db', 'db.sqlite'),
    storeUri,
    items,
  };
}

/** Lists the closure of `storePath` with `nix-store --query --requisites`, sorted. */
export async function queryRequisites(
  fixture: Pick<NixClosureFixture, 'storeUri'>,
  storePath: string,
): Promise<string[]> {
  return queryStore(fixture, ['--requisites', storePath]);
}

/** Lists the direct references of `storePath` with `nix-store --query --references`, sorted. */
export async function queryReferences(
  fixture: Pick<NixClosureFixture, 'storeUri'>,
  storePath: string,
): Promise<string[]> {
  return queryStore(fixture, ['--references', storePath]);
}

async function queryStore(
  fixture: Pick<NixClosureFixture, 'storeUri'>,
  queryArgs: string[],
): Promise<string[]> {
  await requireTool('nix-store');
  const args = [...storeArgs(fixture.storeUri), '--query', ...queryArgs];

  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('nix-store', args, { maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`nix-store ${args.join(' ')} failed: ${tail(stderr)}`, { cause: error });
  }

  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .sort();
}

function storeArgs(storeUri: string | undefined): string[] {
  return storeUri === undefined ? [] : ['--store', storeUri];
}

/** Throws an error naming `command` when it cannot run, because the fixture installs nothing. */
async function requireTool(command: string): Promise<void> {
  try {
    await execFileAsync(command, ['--help']);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `building the fixture closure needs ${command}, which was not found: install it (Debian: apt-get install nix-bin patchelf busybox-static jq util-linux)`,
        { cause: error },
      );
    }
    // Any other failure means the program exists, and the build reports its own errors.
  }
}

function tail(text: string, lines = 20): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

import { ImageError } from './errors.js';

/** The container settings of an image, as the `--entrypoint`, `--env` and similar flags give them. */
export interface ContainerSettings {
  /** Program and leading arguments; a relative program is taken inside the first item, as `guix pack --entry-point` does. */
  entrypoint?: string[];
  /** Default arguments, after the entry point. */
  cmd?: string[];
  /** Variables in `NAME=value` form; `PATH` defaults to the `bin/` folders of the items given. */
  env?: string[];
  /** Absolute working folder of the process. */
  workingDir?: string;
  /** User name or UID, optionally with `:group`. */
  user?: string;
  /** Image labels. */
  labels?: Record<string, string>;
  /** Ports such as `8080/tcp`. */
  exposedPorts?: string[];
}

function invalid(flag: string, value: string, cause: string): ImageError {
  return new ImageError('INVALID_OPTION', `invalid ${flag} "${value.slice(0, 80)}": ${cause}`);
}

const keyValueExamples: Record<string, string> = {
  '--env': 'LANG=C.UTF-8',
  '--label': 'org.opencontainers.image.title=hello',
  '--annotation': 'org.opencontainers.image.source=https://example.org/hello',
  '--symlink': '/usr/bin/hello=bin/hello',
};

/** Parses `NAME=value`, as `--env`, `--label`, `--annotation` and `--symlink` take it. */
export function parseKeyValue(flag: string, text: string): [string, string] {
  const equals = text.indexOf('=');
  if (equals <= 0) {
    const example = keyValueExamples[flag] ?? 'NAME=VALUE';
    throw invalid(flag, text, `expected NAME=VALUE, such as ${example}`);
  }
  const name = text.slice(0, equals);
  if (/\s/.test(name)) {
    throw invalid(flag, text, 'the name before "=" must not contain white space');
  }
  return [name, text.slice(equals + 1)];
}

/** Parses `PORT[/PROTOCOL]`, as `--expose` takes it, into the config's `8080/tcp` form. */
export function parseExposedPort(text: string): string {
  const match = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(text);
  const port = Number(match?.[1]);
  if (match === null || port < 1 || port > 65535) {
    throw invalid(
      '--expose',
      text,
      'expected a port from 1 to 65535 with an optional /tcp, /udp or /sctp, such as 8080/tcp',
    );
  }
  return `${port}/${match[2] ?? 'tcp'}`;
}

/**
 * Parses a command as `--entrypoint` and `--cmd` take it: a JSON array of strings, such as
 * `["/bin/hello","--greeting=hi"]`, or a single program.
 */
export function parseCommand(flag: string, text: string): string[] {
  if (!text.startsWith('[')) {
    return [text];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(flag, text, `not a JSON array: ${(error as Error).message}`);
  }
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((part) => typeof part === 'string') ||
    value[0] === ''
  ) {
    throw invalid(
      flag,
      text,
      'expected a non-empty JSON array of strings, such as ["/bin/hello","-v"]',
    );
  }
  return value;
}

/** A symlink to add to the image: `link` an absolute path, `target` as given on the command line. */
export interface SymlinkSpec {
  link: string;
  target: string;
}

/**
 * Parses `LINK=TARGET`, as `--symlink` takes it, in the manner of `guix pack -S`: LINK is an
 * absolute path in the image and a relative TARGET is taken inside the first item, so `/bin=bin`
 * is the original's `/bin` link.
 */
export function parseSymlink(text: string): SymlinkSpec {
  const [link, target] = parseKeyValue('--symlink', text);
  if (!link.startsWith('/') || link === '/') {
    throw invalid('--symlink', text, 'LINK must be an absolute path below /, such as /bin=bin');
  }
  if (target === '') {
    throw invalid('--symlink', text, 'TARGET is empty');
  }
  return { link, target };
}

/** Parses `PATH[:MODE]`, as `--extra-dir` takes it, with MODE in octal (default 755). */
export function parseExtraDirectory(text: string): { path: string; mode: number } {
  const match = /^(\/[^:]+?)(?::([0-7]{3,4}))?$/.exec(text);
  if (match === null) {
    throw invalid(
      '--extra-dir',
      text,
      'expected an absolute PATH with an optional octal MODE, such as /tmp:1777',
    );
  }
  return { path: match[1] as string, mode: Number.parseInt(match[2] ?? '755', 8) };
}

/** Parses `--created`: an RFC 3339 time such as 2024-05-01T12:00:00Z, or whole seconds since the epoch. */
export function parseCreated(text: string): Date {
  const rfc3339 =
    /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/.exec(text);
  const date = /^\d+$/.test(text)
    ? new Date(Number(text) * 1000)
    : rfc3339 !== null && isCalendarDate(rfc3339)
      ? new Date(text.toUpperCase())
      : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()) || date.getTime() > Date.UTC(9999, 11, 31, 23, 59, 59)) {
    throw invalid(
      '--created',
      text,
      'expected an RFC 3339 time such as 2024-05-01T12:00:00Z, or whole seconds since 1970-01-01',
    );
  }
  return date;
}

/** Checks that the date and time fields name a real moment, so that February 30th is not March 1st. */
function isCalendarDate(fields: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second] = fields.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

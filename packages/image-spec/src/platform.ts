import { endianness } from 'node:os';
import { ImageSpecError, quoteShort } from './errors.js';

/** OCI platform: the `os`, `architecture` and optional `variant` fields of a config or index entry. */
export interface Platform {
  /** Operating system in GOOS terms, such as `linux`. */
  os: string;
  /** CPU architecture in GOARCH terms, such as `amd64` or `arm64`. */
  architecture: string;
  /** CPU variant, such as `v7` for 32-bit ARM or `v8` for arm64. */
  variant?: string;
}

/** One Guix/Nix system name and the OCI platform that images built for it declare. */
interface SystemEntry {
  system: string;
  architecture: string;
  variant?: string;
  /** Variants other than `variant` that still map back to this system. */
  alsoVariants?: readonly string[];
}

/** Linux systems that Guix and Nix build for, in the order shown in error messages. */
const SYSTEMS: readonly SystemEntry[] = [
  { system: 'x86_64-linux', architecture: 'amd64', alsoVariants: ['v1', 'v2', 'v3', 'v4'] },
  { system: 'i686-linux', architecture: '386' },
  { system: 'aarch64-linux', architecture: 'arm64', variant: 'v8' },
  { system: 'armhf-linux', architecture: 'arm', variant: 'v7' },
  { system: 'armv6l-linux', architecture: 'arm', variant: 'v6' },
  { system: 'mips64el-linux', architecture: 'mips64le' },
  { system: 'powerpc64le-linux', architecture: 'ppc64le' },
  { system: 'riscv64-linux', architecture: 'riscv64' },
  { system: 's390x-linux', architecture: 's390x' },
];

/** Other spellings of the same systems: Nix's `armv7l-linux` and GNU target triplets. */
const ALIASES: Readonly<Record<string, string>> = {
  'armv7l-linux': 'armhf-linux',
  'x86_64-linux-gnu': 'x86_64-linux',
  'i686-linux-gnu': 'i686-linux',
  'aarch64-linux-gnu': 'aarch64-linux',
  'arm-linux-gnueabihf': 'armhf-linux',
  'armv7l-linux-gnueabihf': 'armhf-linux',
  'mips64el-linux-gnu': 'mips64el-linux',
  'mips64el-linux-gnuabi64': 'mips64el-linux',
  'powerpc64le-linux-gnu': 'powerpc64le-linux',
  'riscv64-linux-gnu': 'riscv64-linux',
  's390x-linux-gnu': 's390x-linux',
};

/** System names accepted by {@link platformFromSystem}, canonical names first. */
export const KNOWN_SYSTEMS: readonly string[] = [
  ...SYSTEMS.map((entry) => entry.system),
  ...Object.keys(ALIASES),
];

/** Maps a Guix or Nix system name such as `aarch64-linux` to its OCI platform. */
export function platformFromSystem(system: string): Platform {
  const canonical = Object.hasOwn(ALIASES, system) ? (ALIASES[system] ?? system) : system;
  const entry = SYSTEMS.find((candidate) => candidate.system === canonical);
  if (entry === undefined) {
    throw new ImageSpecError(
      'UNKNOWN_SYSTEM',
      `unknown system ${quoteShort(system)}: expected one of ${KNOWN_SYSTEMS.join(', ')}`,
    );
  }

  const platform: Platform = { os: 'linux', architecture: entry.architecture };
  if (entry.variant !== undefined) {
    platform.variant = entry.variant;
  }
  return platform;
}

/** Maps an OCI platform back to its canonical Guix system name, such as `armhf-linux`. */
export function systemFromPlatform(platform: Platform): string {
  const platformText = formatPlatform(platform);
  if (platform.os !== 'linux') {
    throw new ImageSpecError(
      'INVALID_PLATFORM',
      `invalid platform ${quoteShort(platformText)}: expected os "linux", found ${quoteShort(platform.os)}`,
    );
  }

  const sameArchitecture = SYSTEMS.filter((entry) => entry.architecture === platform.architecture);
  if (sameArchitecture.length === 0) {
    const known = [...new Set(SYSTEMS.map((entry) => entry.architecture))].join(', ');
    throw new ImageSpecError(
      'INVALID_PLATFORM',
      `invalid platform ${quoteShort(platformText)}: expected architecture one of ${known}`,
    );
  }

  // A missing variant means the architecture's usual one, as container runtimes assume.
  const match =
    platform.variant === undefined || platform.variant === ''
      ? sameArchitecture[0]
      : sameArchitecture.find(
          (entry) =>
            entry.variant === platform.variant ||
            entry.alsoVariants?.includes(platform.variant ?? ''),
        );
  if (match === undefined) {
    const variants = sameArchitecture.map((entry) => entry.variant ?? '(none)').join(', ');
    throw new ImageSpecError(
      'INVALID_PLATFORM',
      `invalid platform ${quoteShort(platformText)}: expected variant one of ${variants}`,
    );
  }
  return match.system;
}

/** Formats a platform as `os/architecture[/variant]`, the form used by `--platform` flags. */
export function formatPlatform(platform: Platform): string {
  const base = `${platform.os}/${platform.architecture}`;
  return platform.variant ? `${base}/${platform.variant}` : base;
}

/** Node's `process.arch` values and the CPU part of the matching system name. */
const NODE_ARCH_CPU: Readonly<Record<string, string>> = {
  x64: 'x86_64',
  ia32: 'i686',
  arm64: 'aarch64',
  arm: 'armhf',
  mips64el: 'mips64el',
  riscv64: 'riscv64',
  s390x: 's390x',
};

/**
 * Returns the system name of the running machine, such as `x86_64-linux`, from `process.arch`
 * and `process.platform`. Passing both arguments describes another host.
 */
export function hostSystem(arch: string = process.arch, os: string = process.platform): string {
  let cpu = Object.hasOwn(NODE_ARCH_CPU, arch) ? NODE_ARCH_CPU[arch] : undefined;

  // Node names both POWER byte orders `ppc64`, but only the little-endian one is a Guix or Nix
  // system. The byte order is the running machine's, even when `arch` describes another host.
  if (arch === 'ppc64' && endianness() === 'LE') {
    cpu = 'powerpc64le';
  }
  if (cpu === undefined) {
    throw new ImageSpecError(
      'UNKNOWN_SYSTEM',
      `finding host system: unknown Node architecture ${quoteShort(arch)}, expected one of ${Object.keys(NODE_ARCH_CPU).join(', ')}, ppc64 (little-endian)`,
    );
  }
  return `${cpu}-${os}`;
}

import { describe, expect, it } from 'vitest';
import { ImageSpecError } from './errors.js';
import {
  formatPlatform,
  hostSystem,
  KNOWN_SYSTEMS,
  platformFromSystem,
  systemFromPlatform,
} from './platform.js';

describe('platformFromSystem', () => {
  it.each([
    ['x86_64-linux', 'linux/amd64'],
    ['i686-linux', 'linux/386'],
    ['aarch64-linux', 'linux/arm64/v8'],
    ['armhf-linux', 'linux/arm/v7'],
    ['armv7l-linux', 'linux/arm/v7'],
    ['armv6l-linux', 'linux/arm/v6'],
    ['mips64el-linux', 'linux/mips64le'],
    ['powerpc64le-linux', 'linux/ppc64le'],
    ['riscv64-linux', 'linux/riscv64'],
    ['s390x-linux', 'linux/s390x'],
    ['x86_64-linux-gnu', 'linux/amd64'],
    ['i686-linux-gnu', 'linux/386'],
    ['aarch64-linux-gnu', 'linux/arm64/v8'],
    ['arm-linux-gnueabihf', 'linux/arm/v7'],
    ['mips64el-linux-gnuabi64', 'linux/mips64le'],
    ['powerpc64le-linux-gnu', 'linux/ppc64le'],
    ['riscv64-linux-gnu', 'linux/riscv64'],
    ['s390x-linux-gnu', 'linux/s390x'],
  ])('maps %s to %s', (system, expected) => {
    expect(formatPlatform(platformFromSystem(system))).toBe(expected);
  });

  it('leaves variant out when there is none', () => {
    expect(platformFromSystem('x86_64-linux')).toEqual({ os: 'linux', architecture: 'amd64' });
  });

  it.each([
    ['x86_64-darwin'],
    ['aarch64-darwin'],
    ['sparc-linux'],
    ['x86_64-gnu'],
    ['X86_64-linux'],
    // A name of an Object.prototype member must not be looked up as an alias.
    ['constructor'],
    [''],
  ])('rejects unknown system %j', (system) => {
    let error: unknown;
    try {
      platformFromSystem(system);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ImageSpecError);
    expect((error as ImageSpecError).code).toBe('UNKNOWN_SYSTEM');
    expect((error as ImageSpecError).message).toMatch(
      new RegExp(
        `^unknown system ${JSON.stringify(system)}: expected one of x86_64-linux, i686-linux, `,
      ),
    );
  });
});

describe('systemFromPlatform', () => {
  it.each(KNOWN_SYSTEMS.map((system) => [system]))(
    'round-trips %s to its canonical name',
    (system) => {
      const platform = platformFromSystem(system);
      expect(platformFromSystem(systemFromPlatform(platform))).toEqual(platform);
    },
  );

  it.each([
    [{ os: 'linux', architecture: 'amd64' }, 'x86_64-linux'],
    [{ os: 'linux', architecture: 'amd64', variant: 'v3' }, 'x86_64-linux'],
    [{ os: 'linux', architecture: 'arm64' }, 'aarch64-linux'],
    [{ os: 'linux', architecture: 'arm' }, 'armhf-linux'],
    [{ os: 'linux', architecture: 'arm', variant: 'v6' }, 'armv6l-linux'],
    [{ os: 'linux', architecture: 'ppc64le' }, 'powerpc64le-linux'],
  ])('maps %j to %s', (platform, system) => {
    expect(systemFromPlatform(platform)).toBe(system);
  });

  it.each([
    // Guix and Nix images here are Linux images only.
    [{ os: 'windows', architecture: 'amd64' }, 'expected os "linux"'],
    // No Guix or Nix system builds for this architecture.
    [{ os: 'linux', architecture: 'sparc64' }, 'expected architecture one of amd64, 386, arm64'],
    // 32-bit ARM v5 has no system name in the table.
    [{ os: 'linux', architecture: 'arm', variant: 'v5' }, 'expected variant one of v7, v6'],
  ])('rejects %j', (platform, message) => {
    expect(() => systemFromPlatform(platform)).toThrow(
      expect.objectContaining({
        code: 'INVALID_PLATFORM',
        message: expect.stringContaining(message),
      }),
    );
  });
});

describe('hostSystem', () => {
  it('maps the running machine to a known system', () => {
    if (process.platform === 'linux') {
      expect(KNOWN_SYSTEMS).toContain(hostSystem());
    } else {
      expect(hostSystem()).toMatch(new RegExp(`-${process.platform}$`));
    }
  });

  it.each([
    ['x64', 'linux', 'x86_64-linux'],
    ['arm64', 'linux', 'aarch64-linux'],
    ['arm', 'linux', 'armhf-linux'],
    ['ia32', 'linux', 'i686-linux'],
    ['arm64', 'darwin', 'aarch64-darwin'],
  ])('maps Node arch %s on %s to %s', (arch, os, system) => {
    expect(hostSystem(arch, os)).toBe(system);
  });

  it.each([['loong64'], ['toString']])('rejects unknown Node architecture %s', (arch) => {
    expect(() => hostSystem(arch, 'linux')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_SYSTEM' }),
    );
  });
});

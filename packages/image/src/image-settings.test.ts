import { describe, expect, it } from 'vitest';
import {
  parseCommand,
  parseCreated,
  parseExposedPort,
  parseExtraDirectory,
  parseKeyValue,
  parseSymlink,
} from './image-settings.js';

describe('image setting parsers', () => {
  it.each([
    ['LANG=C.UTF-8', ['LANG', 'C.UTF-8']],
    ['EMPTY=', ['EMPTY', '']],
    ['URL=a=b', ['URL', 'a=b']],
  ])('splits %s', (text, expected) => {
    expect(parseKeyValue('--env', text)).toEqual(expected);
  });

  it.each([
    ['8080', '8080/tcp'],
    ['53/udp', '53/udp'],
    ['1/sctp', '1/sctp'],
    ['65535', '65535/tcp'],
  ])('reads port %s', (text, expected) => {
    expect(parseExposedPort(text)).toBe(expected);
  });

  it.each([
    ['bin/hello', ['bin/hello']],
    ['["/bin/hello","-v"]', ['/bin/hello', '-v']],
  ])('reads command %s', (text, expected) => {
    expect(parseCommand('--cmd', text)).toEqual(expected);
  });

  it.each([
    ['/tmp:1777', { path: '/tmp', mode: 0o1777 }],
    ['/var/lib/app', { path: '/var/lib/app', mode: 0o755 }],
  ])('reads extra folder %s', (text, expected) => {
    expect(parseExtraDirectory(text)).toEqual(expected);
  });

  it.each([
    ['1700000000', '2023-11-14T22:13:20.000Z'],
    ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.000Z'],
    ['2024-05-01T14:00:00+02:00', '2024-05-01T12:00:00.000Z'],
  ])('reads creation time %s', (text, expected) => {
    expect(parseCreated(text).toISOString()).toBe(expected);
  });

  it('reads a symlink', () => {
    expect(parseSymlink('/bin=bin')).toEqual({ link: '/bin', target: 'bin' });
  });

  // Each value breaks the form its flag takes.
  it.each([
    ['an env without "="', () => parseKeyValue('--env', 'LANG')],
    ['an env name with a space', () => parseKeyValue('--env', 'MY VAR=1')],
    ['port 0', () => parseExposedPort('0')],
    ['port 65536', () => parseExposedPort('65536')],
    ['a port range', () => parseExposedPort('80-90')],
    ['an empty JSON command', () => parseCommand('--cmd', '[]')],
    ['a command array of numbers', () => parseCommand('--cmd', '[1]')],
    ['a mode that is not octal', () => parseExtraDirectory('/tmp:999')],
    ['a relative extra folder', () => parseExtraDirectory('tmp')],
    ['a date without a zone', () => parseCreated('2024-05-01T12:00:00')],
    ['a date past year 9999', () => parseCreated('999999999999')],
    ['a symlink to nothing', () => parseSymlink('/bin=')],
    ['a symlink at the root', () => parseSymlink('/=bin')],
  ])('rejects %s', (_case, parse) => {
    expect(parse).toThrow(/^invalid --/);
  });
});

import { describe, expect, it } from 'vitest';
import { describeValue, formatIssue, isRfc3339, joinPath, memberPath } from './validation.js';

describe('isRfc3339', () => {
  it.each([
    ['1970-01-01T00:00:01Z'],
    ['2024-02-29T23:59:59.123456789Z'],
    ['2016-12-31T23:59:60Z'],
    ['2024-06-01t12:00:00+02:00'],
    ['2024-06-01T12:00:00-05:30'],
  ])('accepts %s', (text) => {
    expect(isRfc3339(text)).toBe(true);
  });

  it.each([
    // No time zone.
    ['1970-01-01T00:00:01'],
    // A date alone is not a date-time.
    ['1970-01-01'],
    // 2023 is not a leap year.
    ['2023-02-29T00:00:00Z'],
    // Month 13 does not exist.
    ['2024-13-01T00:00:00Z'],
    // Hour 24 does not exist.
    ['2024-01-01T24:00:00Z'],
    // A space instead of "T" is allowed by ISO 8601 profiles but not by this grammar.
    ['2024-01-01 00:00:00Z'],
    // The offset has a colon.
    ['2024-01-01T00:00:00+0200'],
    // Six-digit years are outside RFC 3339.
    ['+010000-01-01T00:00:00Z'],
  ])('rejects %s', (text) => {
    expect(isRfc3339(text)).toBe(false);
  });
});

describe('JSON paths', () => {
  it('quotes member names that are not identifiers', () => {
    expect(memberPath('', 'rootfs')).toBe('rootfs');
    expect(memberPath('config', 'Env')).toBe('config.Env');
    expect(memberPath('config.Labels', 'org.example')).toBe('config.Labels["org.example"]');
    expect(memberPath('', '8080/tcp')).toBe('["8080/tcp"]');
  });

  it('joins a prefix and a nested path', () => {
    expect(joinPath('config', '')).toBe('config');
    expect(joinPath('config', 'rootfs.diff_ids[1]')).toBe('config.rootfs.diff_ids[1]');
    expect(joinPath('manifest', '[0]')).toBe('manifest[0]');
    expect(joinPath('config', '["8080/tcp"]')).toBe('config["8080/tcp"]');
  });

  it('formats an issue with its path', () => {
    expect(formatIssue({ path: 'os', message: 'missing required string' })).toBe(
      'os: missing required string',
    );
    expect(formatIssue({ path: '', message: 'expected an object' })).toBe(
      '(document): expected an object',
    );
  });

  it('describes values by JSON type', () => {
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1])).toBe('array');
    expect(describeValue({})).toBe('object');
    expect(describeValue(true)).toBe('boolean true');
    expect(describeValue('x'.repeat(50))).toBe(`string "${'x'.repeat(40)}…"`);
  });
});

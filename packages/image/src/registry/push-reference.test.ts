import { describe, expect, it } from 'vitest';
import { isInsecureRegistry } from './insecure-registries.js';
import { parsePushReference } from './push-reference.js';

describe('parsePushReference', () => {
  it.each([
    [
      '127.0.0.1:5000/team/hello:1',
      { registry: '127.0.0.1:5000', repository: 'team/hello', tag: '1' },
    ],
    ['localhost/hello', { registry: 'localhost', repository: 'hello', tag: 'latest' }],
    ['docker.io/library/hello:1', { registry: 'docker.io', repository: 'library/hello', tag: '1' }],
  ])('parses %s', (text, expected) => {
    expect(parsePushReference(text)).toEqual(expected);
  });

  it.each([
    // Docker would send these to Docker Hub, which the user did not name.
    ['hello:1'],
    ['team/hello'],
  ])('rejects %s without a registry host', (text) => {
    expect(() => parsePushReference(text)).toThrow(/no registry host/);
  });

  it('rejects an invalid reference', () => {
    expect(() => parsePushReference('127.0.0.1:5000/Team/hello')).toThrow(/must be lowercase/);
  });
});

describe('isInsecureRegistry', () => {
  it.each([
    ['127.0.0.1:5000', ['127.0.0.1:5000'], true],
    ['127.0.0.1:5000', ['127.0.0.1'], true],
    ['127.0.0.1:5000', ['127.0.0.1:5001'], false],
    ['registry.example', ['127.0.0.1'], false],
    ['[::1]:5000', ['[::1]:5000'], true],
  ])('%s with %j is %s', (registry, list, expected) => {
    expect(isInsecureRegistry(registry, list)).toBe(expected);
  });

  it('rejects an entry with a scheme', () => {
    expect(() => isInsecureRegistry('a:1', ['http://a:1'])).toThrow(/expected HOST or HOST:PORT/);
  });
});

import { describe, expect, it } from 'vitest';
import { parseChallenges } from './auth-challenge.js';

describe('parseChallenges', () => {
  it.each([
    [
      'a Basic challenge',
      'Basic realm="Registry Realm"',
      [{ scheme: 'basic', params: { realm: 'Registry Realm' } }],
    ],
    [
      'a Bearer challenge with scope',
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.example/token',
            service: 'registry.example',
            scope: 'repository:team/app:pull,push',
          },
        },
      ],
    ],
    [
      'two challenges, unquoted values and spaces',
      'Bearer realm=https://a/token, service = reg , Basic realm="x"',
      [
        { scheme: 'bearer', params: { realm: 'https://a/token', service: 'reg' } },
        { scheme: 'basic', params: { realm: 'x' } },
      ],
    ],
    [
      'an escaped quote',
      'Basic realm="say \\"hi\\""',
      [{ scheme: 'basic', params: { realm: 'say "hi"' } }],
    ],
    ['an empty header', '', []],
  ])('parses %s', (_case, header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { parseRetryAfter, withRetries } from './retry.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['seconds', '3', 3000],
    ['an HTTP date', 'Thu, 01 Jan 2026 00:00:02 GMT', 2000],
    ['a date in the past', 'Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['nothing', undefined, undefined],
    ['garbage', 'soon', undefined],
  ])('reads %s', (_case, header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('withRetries', () => {
  it('stops after the policy tries', async () => {
    let tries = 0;
    const outcome = await withRetries(
      'testing',
      { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
      async () => {
        tries += 1;
        return { done: false, reason: 'still failing' };
      },
    );
    expect(tries).toBe(3);
    expect(outcome).toEqual({ done: false, reason: 'still failing' });
  });

  it('returns the first success', async () => {
    let tries = 0;
    const outcome = await withRetries(
      'testing',
      { attempts: 5, initialDelayMs: 1, maxDelayMs: 5 },
      async () => {
        tries += 1;
        return tries === 2 ? { done: true, value: 'ok' } : { done: false, reason: 'not yet' };
      },
    );
    expect(outcome).toEqual({ done: true, value: 'ok' });
    expect(tries).toBe(2);
  });
});

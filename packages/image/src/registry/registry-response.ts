import type { HttpResponse } from './http-request.js';

/** Returns one response header as a string, the first when it was sent several times. */
export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Formats the `errors` list of a registry's JSON error body as `: CODE message`, or nothing. */
export function describeErrors(response: HttpResponse): string {
  try {
    const document = JSON.parse(response.body.toString('utf8')) as { errors?: unknown };
    if (!Array.isArray(document.errors)) return '';
    const parts = document.errors.map((entry: { code?: unknown; message?: unknown }) =>
      [entry.code, entry.message].filter((part) => typeof part === 'string').join(' '),
    );
    return parts.length === 0 ? '' : `: ${parts.join('; ')}`;
  } catch {
    return '';
  }
}

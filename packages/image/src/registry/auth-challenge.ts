/** One challenge of a `WWW-Authenticate` header, such as `Bearer realm="…",service="…"`. */
export interface AuthChallenge {
  /** Authentication scheme in lower case: `basic` or `bearer` for registries. */
  scheme: string;
  /** Parameters by lower-case name, such as `realm`, `service` and `scope`. */
  params: Record<string, string>;
}

/** A scheme name, or a parameter name before "=". */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses the challenges of a `WWW-Authenticate` header as RFC 9110 writes them: a scheme, then
 * comma-separated `name=value` parameters whose values may be quoted. Text that breaks the
 * grammar ends the parse, keeping the challenges read so far.
 */
export function parseChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let rest = header.trim();

  while (rest !== '') {
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) {
      break;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    rest = rest.slice(scheme.length).trimStart();

    // Parameters follow until the next token that is not followed by "=", which starts a new challenge.
    while (rest !== '') {
      const name = TOKEN.exec(rest)?.[0];
      const afterName = name === undefined ? '' : rest.slice(name.length).trimStart();
      if (name === undefined || !afterName.startsWith('=')) {
        break;
      }
      const { value, remainder } = readValue(afterName.slice(1).trimStart());
      challenge.params[name.toLowerCase()] = value;
      rest = remainder.replace(/^\s*,\s*/, '');
    }
  }
  return challenges;
}

/** Reads a quoted string, unescaping `\"`, or a bare token, from the start of `text`. */
function readValue(text: string): { value: string; remainder: string } {
  if (!text.startsWith('"')) {
    const value = /^[^,\s]*/.exec(text)?.[0] ?? '';
    return { value, remainder: text.slice(value.length) };
  }

  let value = '';
  for (let index = 1; index < text.length; index += 1) {
    const character = text[index] as string;
    if (character === '\\' && index + 1 < text.length) {
      value += text[index + 1];
      index += 1;
    } else if (character === '"') {
      return { value, remainder: text.slice(index + 1) };
    } else {
      value += character;
    }
  }
  return { value, remainder: '' };
}

/** Position and cause of an error in a JSON text. */
export interface JsonSyntaxError {
  /** Line of the first offending character, from 1. */
  line: number;
  /** Column of the first offending character, from 1. */
  column: number;
  /** Description of what the parser expected, e.g. `expected a value`. */
  reason: string;
}

const whitespace = new Set([' ', '\t', '\n', '\r']);
const numberPattern = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
// JSON strings may not hold U+0000 to U+001F unescaped. \p{Cc} also covers U+007F to U+009F,
// which JSON allows, so those are added back.
const stringPattern = /"(?:[^"\\\p{Cc}]|[\u007f-\u009f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/uy;

/**
 * Finds the first syntax error of a JSON text, which `JSON.parse` in Node 20 reports without a
 * position. Returns undefined for valid JSON.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let offset = 0;
  const skip = () => {
    while (whitespace.has(text[offset] as string)) {
      offset += 1;
    }
  };
  const error = (reason: string): JsonSyntaxError => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const found = offset < text.length ? JSON.stringify(text[offset]) : 'the end of the text';
    return { line, column: offset - before.lastIndexOf('\n'), reason: `${reason}, found ${found}` };
  };
  const match = (pattern: RegExp): boolean => {
    pattern.lastIndex = offset;
    if (pattern.exec(text) === null) {
      return false;
    }
    offset = pattern.lastIndex;
    return true;
  };

  // Each frame is the container being read and whether a member or element was read in it.
  const stack: { close: '}' | ']'; filled: boolean }[] = [];
  for (;;) {
    skip();
    const top = stack.at(-1);
    if (top !== undefined) {
      if (text[offset] === top.close) {
        offset += 1;
        stack.pop();
        if (stack.length === 0) {
          break;
        }
        continue;
      }
      if (top.filled) {
        if (text[offset] !== ',') {
          return error(`expected "," or "${top.close}"`);
        }
        offset += 1;
        skip();
      }
      top.filled = true;
      if (top.close === '}') {
        if (!match(stringPattern)) {
          return error('expected a member name in double quotes');
        }
        skip();
        if (text[offset] !== ':') {
          return error('expected ":"');
        }
        offset += 1;
        skip();
      }
    }

    // A value.
    const character = text[offset];
    if (character === '{' || character === '[') {
      stack.push({ close: character === '{' ? '}' : ']', filled: false });
      offset += 1;
      continue;
    }
    const scalar =
      match(stringPattern) ||
      match(numberPattern) ||
      ['true', 'false', 'null'].some(
        (word) => text.startsWith(word, offset) && match(new RegExp(word, 'y')),
      );
    if (!scalar) {
      return error('expected a value');
    }
    if (stack.length === 0) {
      break;
    }
  }

  skip();
  return offset < text.length ? error('expected the end of the text') : undefined;
}

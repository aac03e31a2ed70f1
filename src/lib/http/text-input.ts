/**
 * Text from people is normalised once, at the edge, before any length check or storage:
 * Unicode NFC (so «й» is one character however it was typed), no control characters but
 * newline and tab (NUL, BEL, ESC, CR… never reach the database or MiniMax), and no bidi
 * overrides or isolates (U+202A–U+202E, U+2066–U+2069), which can make a text read
 * differently from what it says.
 */

// eslint-disable-next-line no-control-regex
const UNWANTED = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function normalizeText(value: string): string {
  return value.normalize('NFC').replace(UNWANTED, '');
}

/** Every string inside a parsed JSON value or form, keys included. */
export function normalizeTextInput(value: unknown): unknown {
  if (typeof value === 'string') return normalizeText(value);
  if (Array.isArray(value)) return value.map(normalizeTextInput);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [normalizeText(key), normalizeTextInput(inner)]));
  }
  return value;
}

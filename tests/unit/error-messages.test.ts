import { describe, expect, it } from 'vitest';
import { LOCALES, messageKeys, t } from '../../src/lib/i18n/index.ts';
import { normalizeText } from '../../src/lib/http/text-input.ts';

const errorKeys = messageKeys().filter((key) => key.startsWith('errors.') && !key.endsWith('.plain'));
const PARAMS = { field: 'prompt', seconds: 30, required: 2, current: 1, duration: 10, max: 500, width: 200, height: 200, min: 301, limitMb: 10 };

describe('error messages', () => {
  it('has error messages to check', () => {
    expect(errorKeys.length).toBeGreaterThan(40);
  });

  it.each(LOCALES)('never shows an unfilled placeholder (%s), with or without parameters', (locale) => {
    for (const key of errorKeys) {
      for (const params of [PARAMS, {}]) {
        const text = t(locale, key, params);
        expect(text, `${key} ${JSON.stringify(params)}`).not.toMatch(/[{}]/);
        expect(text, key).not.toBe(key);
      }
    }
  });

  it('uses the parameters when they are given', () => {
    expect(t('ru', 'errors.RATE_LIMITED', { seconds: 30 })).toContain('30');
    expect(t('ru', 'errors.RATE_LIMITED')).not.toContain('30');
  });
});

describe('normalizeText', () => {
  it.each([
    ['a\u0000b\u0007c\u001bd', 'abcd'],
    ['line\r\nnext\tcol', 'line\nnext\tcol'],
    ['\u202eevil\u202c \u2066iso\u2069', 'evil iso'],
    ['\u0085c1\u009f', 'c1'],
    ['и\u0306', 'й'],
    ['обычный текст', 'обычный текст'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });
});

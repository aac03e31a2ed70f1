import { hasMessage, t, type Locale } from './index.ts';

/**
 * Counted phrases ("1 кредит", "3 кредита", "5 кредитов"). A message family is written as
 * `<key>.one`, `<key>.few`, `<key>.many`, `<key>.other` (English needs only one/other);
 * the language's own plural rules pick the form.
 */
export function tn(locale: Locale, key: string, count: number, params: Record<string, string | number> = {}): string {
  const category = new Intl.PluralRules(locale).select(count);
  const exact = `${key}.${category}`;
  return t(locale, hasMessage(exact) ? exact : `${key}.other`, { count, ...params });
}

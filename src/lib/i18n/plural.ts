import { LOCALES, hasMessage, t, type Locale } from './index.ts';

/** One rule set per language: building an `Intl.PluralRules` costs more than using it. */
const pluralRules = Object.fromEntries(LOCALES.map((locale) => [locale, new Intl.PluralRules(locale)])) as Record<Locale, Intl.PluralRules>;

/**
 * Counted phrases ("1 кредит", "3 кредита", "5 кредитов"). A message family is written as
 * `<key>.one`, `<key>.few`, `<key>.many`, `<key>.other` (English needs only one/other);
 * the language's own plural rules pick the form.
 */
export function tn(locale: Locale, key: string, count: number, params: Record<string, string | number> = {}): string {
  const category = pluralRules[locale].select(count);
  const exact = `${key}.${category}`;
  return t(locale, hasMessage(exact) ? exact : `${key}.other`, { count, ...params });
}

import { common } from './messages/common.ts';
import { auth } from './messages/auth.ts';
import { billing } from './messages/billing.ts';
import { generation } from './messages/generation.ts';
import { ui } from './messages/ui.ts';
import { admin } from './messages/admin.ts';

/**
 * Interface text. Russian is the default; English is the second language.
 * Each area keeps its own message file (`messages/<area>.ts`) with the same keys in both
 * languages; this module merges them. Templates use `{name}` placeholders.
 */

export const LOCALES = ['ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'ru';
export const LOCALE_COOKIE = 'beem_lang';

export type Messages = Record<string, string>;
export interface MessageSet {
  ru: Messages;
  en: Messages;
}

const sets: MessageSet[] = [common, auth, billing, generation, ui, admin];

const catalogue: Record<Locale, Messages> = {
  ru: Object.assign({}, ...sets.map((s) => s.ru)),
  en: Object.assign({}, ...sets.map((s) => s.en)),
};

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

export function hasMessage(key: string): boolean {
  return key in catalogue.ru;
}

export function t(locale: Locale, key: string, params: Record<string, string | number> = {}): string {
  const template = catalogue[locale][key] ?? catalogue[DEFAULT_LOCALE][key] ?? key;
  if (!template.includes('{')) return template;
  return template.replace(/\{(\w+)\}/g, (match, name: string) =>
    name in params ? String(params[name]) : match,
  );
}

/** The cookie wins; otherwise Russian unless the browser asks for English first. */
export function resolveLocale(cookieValue: string | undefined, acceptLanguage: string | null): Locale {
  if (isLocale(cookieValue)) return cookieValue;
  const first = acceptLanguage?.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : DEFAULT_LOCALE;
}

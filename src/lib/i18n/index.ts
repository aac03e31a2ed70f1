import { common } from './messages/common.ts';
import { auth } from './messages/auth.ts';
import { billing } from './messages/billing.ts';
import { generation } from './messages/generation.ts';
import { ui } from './messages/ui.ts';
import { admin } from './messages/admin.ts';
import { waiting } from './messages/waiting.ts';
import { video } from './messages/video.ts';
import { prompt } from './messages/prompt.ts';

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

const sets: MessageSet[] = [common, auth, billing, generation, ui, admin, waiting, video, prompt];

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

const PLACEHOLDER = /\{(\w+)\}/g;

/**
 * The text of `key` with its `{placeholders}` filled. A message that takes parameters may
 * have a `<key>.plain` variant without them, used when any parameter is missing, so a
 * person never sees a bare `{field}`.
 */
export function t(locale: Locale, key: string, params: Record<string, string | number> = {}): string {
  const template = message(locale, key) ?? key;
  if (!template.includes('{')) return template;
  const missing = [...template.matchAll(PLACEHOLDER)].some(([, name]) => !(name! in params));
  if (missing) {
    const plain = message(locale, `${key}.plain`);
    if (plain !== undefined) return plain;
  }
  return template.replace(PLACEHOLDER, (match, name: string) => (name in params ? String(params[name]) : match));
}

function message(locale: Locale, key: string): string | undefined {
  return catalogue[locale][key] ?? catalogue[DEFAULT_LOCALE][key];
}

/** Every message key (Russian is the reference catalogue). */
export function messageKeys(): string[] {
  return Object.keys(catalogue.ru);
}

/** The cookie wins; otherwise Russian unless the browser asks for English first. */
export function resolveLocale(cookieValue: string | undefined, acceptLanguage: string | null): Locale {
  if (isLocale(cookieValue)) return cookieValue;
  const first = acceptLanguage?.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : DEFAULT_LOCALE;
}

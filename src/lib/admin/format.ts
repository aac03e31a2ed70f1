import type { Locale } from '../i18n/index.ts';

/** Dense, unambiguous formats for admin tables (times in Moscow, as the business runs). */

const intl = (locale: Locale) => (locale === 'ru' ? 'ru-RU' : 'en-GB');

/** Kopecks → "1 490,00 ₽". */
export function formatKopecks(kopecks: number, locale: Locale): string {
  return new Intl.NumberFormat(intl(locale), { style: 'currency', currency: 'RUB', minimumFractionDigits: 2 }).format(kopecks / 100);
}

/** "12.01.2026, 14:05:09" in Moscow time. */
export function formatTimestamp(ms: number | null | undefined, locale: Locale): string {
  if (ms === null || ms === undefined) return '—';
  return new Intl.DateTimeFormat(intl(locale), {
    timeZone: 'Europe/Moscow',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(ms));
}

/** A duration for people: "45 с", "12 мин", "3 ч 5 мин", "2 д 4 ч". */
export function formatAge(ms: number | null | undefined, locale: Locale): string {
  if (ms === null || ms === undefined) return '—';
  const units = locale === 'ru' ? { s: 'с', m: 'мин', h: 'ч', d: 'д' } : { s: 's', m: 'min', h: 'h', d: 'd' };
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} ${units.s}`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} ${units.m}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} ${units.h}${minutes % 60 ? ` ${minutes % 60} ${units.m}` : ''}`;
  const days = Math.floor(hours / 24);
  return `${days} ${units.d}${hours % 24 ? ` ${hours % 24} ${units.h}` : ''}`;
}

/** Milliseconds as whole seconds: "95 с" (chart axes and tables of durations). */
export function formatSeconds(ms: number, locale: Locale): string {
  return `${Math.round(ms / 1000)} ${locale === 'ru' ? 'с' : 's'}`;
}

/** Kopecks as short rubles for chart axes: "1,5 тыс. ₽". */
export function formatRublesShort(kopecks: number, locale: Locale): string {
  return `${new Intl.NumberFormat(intl(locale), { notation: 'compact', maximumFractionDigits: 1 }).format(kopecks / 100)} ₽`;
}

/** `YYYY-MM-DD` → "14.03" (chart labels). */
export function formatShortDay(day: string): string {
  return `${day.slice(8, 10)}.${day.slice(5, 7)}`;
}

/** `<input type="date">` value (a Moscow day) → epoch ms of its start; null when empty or invalid. */
export function parseMoscowDate(value: string | null | undefined): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value?.trim() ?? '');
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) - 3 * 60 * 60 * 1000;
  return Number.isNaN(ms) ? null : ms;
}

/** Epoch ms → the Moscow day as `YYYY-MM-DD` (for date inputs). */
export function toMoscowDate(ms: number): string {
  return new Date(ms + 3 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

/**
 * Number, money and date formatting shared by pages (server) and their scripts (browser),
 * so a price or a date reads the same before and after a client-side update.
 */

export type UiLocale = 'ru' | 'en';

const intlLocale = (locale: UiLocale) => (locale === 'ru' ? 'ru-RU' : 'en-GB');

/** Kopecks → "1 490 ₽" (kopecks shown only when there are any). */
export function formatRubles(kopecks: number, locale: UiLocale): string {
  const whole = kopecks % 100 === 0;
  return new Intl.NumberFormat(intlLocale(locale), {
    style: 'currency',
    currency: 'RUB',
    minimumFractionDigits: whole ? 0 : 2,
    maximumFractionDigits: whole ? 0 : 2,
  }).format(kopecks / 100);
}

/** Epoch milliseconds (or seconds, as some APIs send) → "12 янв. 2025, 14:05". */
export function formatDateTime(epoch: number, locale: UiLocale): string {
  return new Intl.DateTimeFormat(intlLocale(locale), {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(toMillis(epoch)));
}

/** Timestamps under 10^12 are seconds (the spec's `createdAt: 1737014400`). */
export function toMillis(epoch: number): number {
  return epoch < 1e12 ? epoch * 1000 : epoch;
}

/** Elapsed seconds → "0:07", "2:05", "1:02:03". */
export function formatElapsed(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** Price of one credit in kopecks, rounded to whole rubles for display. */
export function pricePerCredit(priceKopecks: number, credits: number): number {
  return Math.round(priceKopecks / credits / 100) * 100;
}

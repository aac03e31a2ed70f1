import { expect } from 'vitest';
import type { MessageSet } from '../../src/lib/i18n/index.ts';

/** `ui.credits.few` → `ui.credits`: Russian counts in more forms than English. */
export const pluralFamily = (key: string) => key.replace(/\.(one|few|many|other)$/, '');

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** Every phrase of a book in both Russian and English (counted ones by family), with the same placeholders. */
export function expectBilingual(book: MessageSet): void {
  const ru = new Set(Object.keys(book.ru).map(pluralFamily));
  const en = new Set(Object.keys(book.en).map(pluralFamily));
  expect([...ru].filter((k) => !en.has(k)), 'only in Russian').toEqual([]);
  expect([...en].filter((k) => !ru.has(k)), 'only in English').toEqual([]);
  for (const key of Object.keys(book.ru)) {
    const english = book.en[key] ?? book.en[`${pluralFamily(key)}.other`] ?? '';
    expect(placeholders(english), key).toEqual(placeholders(book.ru[key]!));
  }
}

import { describe, expect, it } from 'vitest';
import { cyrillicShare, translateKnownWords } from '../../src/lib/prompt/phrasebook.ts';

describe('translateKnownWords', () => {
  it.each([
    ['Красная помада на мраморе', 'red lipstick on marble'],
    ['Небольшая бутылка сока на белом фоне', 'Небольшая bottle juice on white background'],
    ['Камера приближается к флакону духов', 'the camera moves closer towards flacon perfume'],
    ['Кроссовки и часы', 'sneakers and watch'],
  ])('%s → %s', (ru, en) => {
    expect(translateKnownWords(ru)).toBe(en);
  });
});

describe('cyrillicShare', () => {
  it.each([
    ['A bottle of perfume', 0],
    ['Бутылка', 1],
    ['A bottle «Ромашка»', 7 / 14],
    ['', 0],
  ])('%s → %d', (text, share) => {
    expect(cyrillicShare(text)).toBeCloseTo(share);
  });
});

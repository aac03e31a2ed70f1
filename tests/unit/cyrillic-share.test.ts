import { describe, expect, it } from 'vitest';
import { cyrillicShare } from '../../src/lib/prompt/cyrillic-share.ts';

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

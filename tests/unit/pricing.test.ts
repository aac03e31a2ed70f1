import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config.ts';
import {
  cheapestVideoCredits,
  describeTariffs,
  findTariff,
  formatAmount,
  parseAmount,
  planAfterPurchase,
} from '../../src/lib/billing/pricing.ts';

const pricing = loadConfig({ NODE_ENV: 'test' }).config.pricing;

describe('pricing', () => {
  it.each([
    [0, '0.00'],
    [5, '0.05'],
    [39000, '390.00'],
    [149000, '1490.00'],
    [499050, '4990.50'],
    [123456789012, '1234567890.12'],
  ])('formats %i kopecks as "%s" and reads it back', (kopecks, text) => {
    expect(formatAmount(kopecks)).toBe(text);
    expect(parseAmount(text)).toBe(kopecks);
  });

  it('refuses amounts that are not whole kopecks', () => {
    expect(() => formatAmount(1.5)).toThrow();
    expect(() => formatAmount(-1)).toThrow();
    expect(parseAmount('1 490.00')).toBeNull();
    expect(parseAmount('1490,00')).toBeNull();
    expect(parseAmount('1490.001')).toBeNull();
    expect(parseAmount('1490.5')).toBe(149050);
  });

  it('finds tariffs by id only', () => {
    expect(findTariff(pricing, 'basic')).toMatchObject({ credits: 50, priceKopecks: 149000, plan: 'basic' });
    expect(findTariff(pricing, 'platinum')).toBeNull();
  });

  it('prices a video as the cheapest generation within each tariff', () => {
    expect(cheapestVideoCredits(pricing)).toBe(1);
    expect(describeTariffs(pricing).map((t) => [t.id, t.price, t.pricePerVideo])).toEqual([
      ['single', '390.00', '39.00'],
      ['basic', '1490.00', '29.80'],
      ['professional', '4990.00', '24.95'],
    ]);
    const pricier = loadConfig({ NODE_ENV: 'test', COST_PROMPT_6S: '2', COST_TEMPLATE_6S: '3' }).config.pricing;
    expect(describeTariffs(pricier).find((t) => t.id === 'basic')!.pricePerVideo).toBe('59.60');
  });

  it.each([
    ['free', 'basic', 'basic'],
    ['free', 'professional', 'professional'],
    ['basic', 'professional', 'professional'],
    ['professional', 'basic', 'professional'],
    ['basic', 'single', 'basic'],
    ['free', 'single', 'free'],
  ] as const)('a %s user buying %s has the %s plan', (current, tariffId, expected) => {
    expect(planAfterPurchase(current, findTariff(pricing, tariffId)!)).toBe(expected);
  });
});

import type { Config, Tariff, TariffId } from '../config.ts';
import { PLANS, type Plan } from '../model.ts';

/**
 * Tariffs and money arithmetic, pure. Money is integer kopecks everywhere; it becomes a
 * string only at the YooKassa boundary ("1490.00") and for display.
 */

export type Pricing = Config['pricing'];


export function findTariff(pricing: Pricing, id: string): Tariff | null {
  return pricing.tariffs.find((t) => t.id === id) ?? null;
}

/** The cheapest video costs this many credits (a tariff's "price per video" is for it). */
export function cheapestVideoCredits(pricing: Pricing): number {
  const costs = Object.values(pricing.generation).flatMap((byDuration) => Object.values(byDuration));
  return Math.max(1, Math.min(...costs));
}

/** Kopecks for one cheapest video within the tariff, rounded to the kopeck. */
export function pricePerVideoKopecks(tariff: Tariff, pricing: Pricing): number {
  return Math.round((tariff.priceKopecks * cheapestVideoCredits(pricing)) / tariff.credits);
}

/** YooKassa's amount format: 149000 → "1490.00" (integer math, never a float). */
export function formatAmount(kopecks: number): string {
  if (!Number.isSafeInteger(kopecks) || kopecks < 0) throw new Error(`invalid amount in kopecks: ${kopecks}`);
  return `${Math.floor(kopecks / 100)}.${String(kopecks % 100).padStart(2, '0')}`;
}

/** "1490.00" → 149000; null for anything that is not a plain decimal amount. */
export function parseAmount(value: string): number | null {
  const match = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
}

/** Plans ordered by what they give; buying never moves a user down. */
/** The plan a user has after buying `tariff` with `current` plan: a purchase never lowers it. */
export function planAfterPurchase(current: Plan, tariff: Tariff): Plan {
  if (!tariff.plan) return current;
  return PLANS.indexOf(tariff.plan) > PLANS.indexOf(current) ? tariff.plan : current;
}

export interface TariffView {
  id: TariffId;
  credits: number;
  priceKopecks: number;
  /** "1490.00" */
  price: string;
  currency: 'RUB';
  pricePerVideoKopecks: number;
  pricePerVideo: string;
  plan: Tariff['plan'];
}

export function describeTariffs(pricing: Pricing): TariffView[] {
  return pricing.tariffs.map((tariff) => {
    const perVideo = pricePerVideoKopecks(tariff, pricing);
    return {
      id: tariff.id,
      credits: tariff.credits,
      priceKopecks: tariff.priceKopecks,
      price: formatAmount(tariff.priceKopecks),
      currency: 'RUB',
      pricePerVideoKopecks: perVideo,
      pricePerVideo: formatAmount(perVideo),
      plan: tariff.plan,
    };
  });
}

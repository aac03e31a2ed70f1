import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Config } from '../config.ts';

/**
 * Per-minute request limits from the spec, applied centrally by the middleware so routes
 * need not call anything: per user when signed in, per IP otherwise; sign-in attempts per
 * IP. Rules match the route that runs (Astro's route pattern, e.g. `/api/generate`), so
 * no other spelling of a path escapes them. The counters live in memory on the context
 * (one process serves Beem).
 */

export type RateRuleName = 'generate' | 'preview' | 'upload' | 'payment-create' | 'payment-check' | 'signin';

export interface RateRule {
  name: RateRuleName;
  perMinute: number;
  key: 'user-or-ip' | 'ip';
  matches(method: string, route: string): boolean;
}

const PAYMENTS_WEBHOOK = '/api/payments/yookassa/webhook';

export function rateRules(limits: Config['rateLimits']): RateRule[] {
  const isPayments = (path: string) => path.startsWith('/api/payments/') && path !== PAYMENTS_WEBHOOK;
  return [
    { name: 'generate', perMinute: limits.generatePerMinute, key: 'user-or-ip', matches: (m, p) => m === 'POST' && p === '/api/generate' },
    // Previews are free but each may ask the model twice: their own, separate budget.
    { name: 'preview', perMinute: limits.previewPerMinute, key: 'user-or-ip', matches: (m, p) => m === 'POST' && p === '/api/prompt-preview' },
    { name: 'upload', perMinute: limits.uploadPerMinute, key: 'user-or-ip', matches: (m, p) => m === 'POST' && p === '/api/upload-image' },
    {
      name: 'payment-create',
      perMinute: limits.paymentCreatesPerMinute,
      key: 'user-or-ip',
      matches: (m, p) => m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS' && isPayments(p),
    },
    // The billing page checks a payment's status while the person comes back from paying.
    { name: 'payment-check', perMinute: limits.paymentChecksPerMinute, key: 'user-or-ip', matches: (m, p) => m === 'GET' && isPayments(p) },
    { name: 'signin', perMinute: limits.signInPerMinute, key: 'ip', matches: (_m, p) => p === '/auth/login' || p === '/auth/callback' },
  ];
}

export interface RateSubject {
  method: string;
  /** The route pattern Astro matched. */
  route: string;
  userId: string | null;
  ip: string;
}

export interface RateDecision {
  rule: RateRuleName;
  /** Whole seconds until the next request of this kind is accepted. */
  retryAfterSeconds: number;
}

export class RateLimits {
  private readonly rules: Array<{ rule: RateRule; limiter: RateLimiterMemory }>;

  constructor(limits: Config['rateLimits']) {
    this.rules = rateRules(limits).map((rule) => ({
      rule,
      limiter: new RateLimiterMemory({ keyPrefix: rule.name, points: rule.perMinute, duration: 60 }),
    }));
  }

  /** Counts the request against its rule; a decision when it is over the limit, else null. */
  async consume(subject: RateSubject): Promise<RateDecision | null> {
    const method = subject.method.toUpperCase();
    const entry = this.rules.find(({ rule }) => rule.matches(method, subject.route));
    if (!entry) return null;
    const key = entry.rule.key === 'user-or-ip' && subject.userId ? `user:${subject.userId}` : `ip:${subject.ip}`;
    try {
      await entry.limiter.consume(key);
      return null;
    } catch (rejection) {
      if (rejection instanceof Error) throw rejection;
      const msBeforeNext = (rejection as { msBeforeNext?: number }).msBeforeNext ?? 60_000;
      return { rule: entry.rule.name, retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)) };
    }
  }
}

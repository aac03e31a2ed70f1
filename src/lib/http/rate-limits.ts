import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config.ts';
import { SHARED_COUNTERS_TABLE, sharedCounterKey } from '../db/shared-counters.ts';

/**
 * Per-minute request limits from the spec, applied centrally by the middleware so routes
 * need not call anything: per user when signed in, per IP otherwise; sign-in attempts per
 * IP. Rules match the route that runs (Astro's route pattern, e.g. `/api/generate`), so
 * no other spelling of a path escapes them.
 *
 * Where the counters live: on SQLite (one process) in memory; on PostgreSQL in one table every
 * web process shares, so two web processes do not double anyone's allowance. If that table
 * cannot be reached, each process counts in its own memory meanwhile (the library's insurance
 * limiter): the limits still hold per process, no request is refused or answered 500 because
 * of the store, and the failure is logged once a minute.
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

export interface SharedRateStore {
  /** The PostgreSQL pool (the table exists: prepareSharedCounters). */
  pool: pg.Pool;
  /** Told when the store fails; the request was counted in this process's memory instead. */
  onStoreError(err: unknown): void;
}

const STORE_ERROR_REPORT_MS = 60_000;

export class RateLimits {
  private readonly rules: Array<{ rule: RateRule; limiter: RateLimiterAbstract }>;
  private lastStoreErrorAt = Number.NEGATIVE_INFINITY;

  /** Without `shared`, counters live in this process's memory. */
  constructor(limits: Config['rateLimits'], shared: SharedRateStore | null = null) {
    const client = shared ? this.reportingClient(shared) : null;
    this.rules = rateRules(limits).map((rule) => {
      const options = { keyPrefix: rule.name, points: rule.perMinute, duration: 60 };
      const memory = new RateLimiterMemory(options);
      const limiter = client
        ? new RateLimiterPostgres({ ...options, storeClient: client, storeType: 'pool', tableName: SHARED_COUNTERS_TABLE, tableCreated: true, insuranceLimiter: memory })
        : memory;
      return { rule, limiter };
    });
  }

  /** The pool as the library uses it, with failures reported (at most once a minute) on their way to the insurance limiter. */
  private reportingClient(shared: SharedRateStore): Pick<pg.Pool, 'query'> {
    return {
      query: ((config: pg.QueryConfig) =>
        shared.pool.query(config).catch((err: unknown) => {
          const now = Date.now();
          if (now - this.lastStoreErrorAt >= STORE_ERROR_REPORT_MS) {
            this.lastStoreErrorAt = now;
            shared.onStoreError(err);
          }
          throw err;
        })) as pg.Pool['query'],
    };
  }

  /** Counts the request against its rule; a decision when it is over the limit, else null. */
  async consume(subject: RateSubject): Promise<RateDecision | null> {
    const method = subject.method.toUpperCase();
    const entry = this.rules.find(({ rule }) => rule.matches(method, subject.route));
    if (!entry) return null;
    const key = sharedCounterKey(entry.rule.key === 'user-or-ip' && subject.userId ? `user:${subject.userId}` : `ip:${subject.ip}`);
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

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { findLedgerMismatches } from '../billing/ledger.ts';
import { countInFlight } from '../generation/queue.ts';
import { GENERATION_STATUSES, PAYMENT_STATUSES } from '../model.ts';

/**
 * Operational metrics in the Prometheus text format (`GET /metrics`). One registry per
 * context, never prom-client's global one, so every test app starts from zero.
 *
 * Three kinds of series:
 * - counted as things happen: HTTP requests (by route pattern, never a raw path), MiniMax
 *   calls, operator alerts;
 * - read from the database at scrape time with indexed queries that touch only live rows:
 *   queue length, MiniMax tasks in flight, live generations;
 * - read from the database at most once per `cacheMs`, because they scan whole tables
 *   (better-sqlite3 is synchronous: a scan blocks the event loop): finished generations,
 *   payments by status, and the ledger check (users whose balance differs from their ledger).
 *
 * Gauges read the database in prom-client's async `collect`, awaited by every scrape.
 */

export interface MetricsOptions {
  db: Database;
  clock: Clock;
  /** How long whole-table figures are reused between scrapes. */
  cacheMs: number;
}

export interface HttpObservation {
  method: string;
  /** A route pattern (`/api/status`, `/api/video/:id`), never a path with ids in it. */
  route: string;
  status: number;
  seconds: number;
}

export interface MinimaxCallObservation {
  operation: string;
  ms: number;
  /** Null on success, else the MinimaxError code (`1002`, `HTTP_503`, `TIMEOUT` …). */
  code: string | null;
}

export interface AlertObservation {
  stage: string;
  delivery: string;
}

export interface AppMetrics {
  readonly registry: Registry;
  observeHttp(observation: HttpObservation): void;
  observeMinimaxCall(observation: MinimaxCallObservation): void;
  observeAlert(observation: AlertObservation): void;
  /** A body on /minimax_callback that is neither a challenge nor a status push. */
  countRejectedCallback(): void;
  /** Where the worker's running steps per lane are read at scrape time. */
  watchWorker(worker: { activeSteps(): Record<string, number> }): void;
  /** The exposition text for one scrape. */
  render(): Promise<string>;
  readonly contentType: string;
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface SlowFigures {
  at: number;
  finished: Record<string, number>;
  payments: Record<string, number>;
  ledgerMismatches: number;
}

export function createMetrics(options: MetricsOptions): AppMetrics {
  const { db, clock } = options;
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({
    name: 'beem_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'beem_http_request_duration_seconds',
    help: 'Time from request to the end of the response (long for video downloads), by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers,
  });
  const minimaxDuration = new Histogram({
    name: 'beem_minimax_call_duration_seconds',
    help: 'MiniMax API calls, by operation and outcome (ok or error).',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const minimaxErrors = new Counter({
    name: 'beem_minimax_call_errors_total',
    help: 'Failed MiniMax API calls, by operation and error code (MiniMax status_code, HTTP_<status>, NETWORK, TIMEOUT, BAD_RESPONSE).',
    labelNames: ['operation', 'code'] as const,
    registers,
  });
  const alerts = new Counter({
    name: 'beem_operator_alerts_total',
    help: 'Operator alerts by stage and delivery (sent, suppressed by the one-per-minute rule, failed, disabled).',
    labelNames: ['stage', 'delivery'] as const,
    registers,
  });

  const rejectedCallbacks = new Counter({
    name: 'beem_minimax_callbacks_rejected_total',
    help: 'Bodies posted to /minimax_callback that were neither a challenge nor a status push (anyone can post there; nobody is paged).',
    registers,
  });

  let worker: { activeSteps(): Record<string, number> } | null = null;
  /** The figures of the cache period, shared by the gauges of one scrape while they are read. */
  let slow: { at: number; figures: Promise<SlowFigures> } | null = null;

  async function readSlowFigures(now: number): Promise<SlowFigures> {
    const finished = await db.all<{ status: string; n: number }>(
      `SELECT status, COUNT(*) AS n FROM generations WHERE status IN ('success', 'failed') GROUP BY status`,
    );
    const payments = await db.all<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM payments GROUP BY status');
    return {
      at: now,
      finished: Object.fromEntries(finished.map((r) => [r.status, r.n])),
      payments: Object.fromEntries(payments.map((r) => [r.status, r.n])),
      ledgerMismatches: (await findLedgerMismatches(db)).length,
    };
  }

  function slowFigures(): Promise<SlowFigures> {
    const now = clock.now();
    if (slow && now - slow.at < options.cacheMs) return slow.figures;
    const current = {
      at: now,
      figures: readSlowFigures(now).catch((err: unknown) => {
        // A failed read is not cached: the next scrape reads again.
        if (slow === current) slow = null;
        throw err;
      }),
    };
    slow = current;
    return current.figures;
  }

  new Gauge({
    name: 'beem_generations',
    help: 'Generations by status. queued and processing are counted at every scrape; success and failed are refreshed at most once per cache period.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const live = await db.all<{ status: string; n: number }>(
        `SELECT status, COUNT(*) AS n FROM generations WHERE status IN ('queued', 'processing') GROUP BY status`,
      );
      const counts: Record<string, number> = { ...(await slowFigures()).finished, ...Object.fromEntries(live.map((r) => [r.status, r.n])) };
      for (const status of GENERATION_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'beem_queue_length',
    help: 'Generations waiting to be prepared and submitted (status queued).',
    registers,
    async collect() {
      this.set((await db.value<number>(`SELECT COUNT(*) FROM generations WHERE status = 'queued'`))!);
    },
  });
  new Gauge({
    name: 'beem_minimax_tasks_in_flight',
    help: 'Tasks accepted by MiniMax and not finished yet (the QUEUE_MAX_IN_FLIGHT cap counts these).',
    registers,
    async collect() {
      this.set(await countInFlight(db));
    },
  });
  new Gauge({
    name: 'beem_worker_active_steps',
    help: 'Worker steps running in this process, by lane.',
    labelNames: ['lane'] as const,
    registers,
    collect() {
      if (!worker) return;
      for (const [lane, count] of Object.entries(worker.activeSteps())) this.set({ lane }, count);
    },
  });
  new Gauge({
    name: 'beem_payments',
    help: 'Payments by status (refreshed at most once per cache period).',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const counts = (await slowFigures()).payments;
      for (const status of PAYMENT_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'beem_ledger_mismatched_users',
    help: 'Users whose cached balance differs from the sum of their credit ledger; anything but 0 is a bug to investigate.',
    registers,
    async collect() {
      this.set((await slowFigures()).ledgerMismatches);
    },
  });
  new Gauge({
    name: 'beem_ledger_checked_at_seconds',
    help: 'When the ledger check and the other whole-table figures were last computed (Unix seconds).',
    registers,
    async collect() {
      this.set(Math.floor((await slowFigures()).at / 1000));
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    observeHttp({ method, route, status, seconds }) {
      const m = KNOWN_METHODS.has(method) ? method : 'OTHER';
      httpRequests.inc({ method: m, route, status: String(status) });
      httpDuration.observe({ method: m, route }, seconds);
    },
    observeMinimaxCall({ operation, ms, code }) {
      minimaxDuration.observe({ operation, outcome: code === null ? 'ok' : 'error' }, ms / 1000);
      if (code !== null) minimaxErrors.inc({ operation, code });
    },
    observeAlert({ stage, delivery }) {
      alerts.inc({ stage, delivery });
    },
    countRejectedCallback() {
      rejectedCallbacks.inc();
    },
    watchWorker(w) {
      worker = w;
    },
    render: () => registry.metrics(),
  };
}

const ID_SEGMENT = /^(?=.*\d)[A-Za-z0-9_-]{8,}$/;

/**
 * The route label of a request a node route answered: id-like path segments (with a digit,
 * 8+ characters) and `current` become `:id`, so a label never carries a generation id.
 */
export function nodeRouteLabel(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => (ID_SEGMENT.test(segment) || segment === 'current' ? ':id' : segment))
    .join('/');
}

import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/lib/db/index.ts';
import { useTempDatabases } from '../helpers/db.ts';
import { applyCreditChange } from '../../src/lib/billing/ledger.ts';
import { recordAlert } from '../../src/lib/notify/alert-log.ts';
import { getDashboard, startOfBusinessDay } from '../../src/lib/admin/dashboard.ts';
import { formatAge, parseMoscowDate, toMoscowDate } from '../../src/lib/admin/format.ts';
import { paidPayment, seedPayment } from '../helpers/fixtures.ts';

const HOUR = 3_600_000;
// 15 March 2026, 12:00 in Moscow (09:00 UTC).
const NOW = Date.UTC(2026, 2, 15, 9, 0, 0);
const MOSCOW_MIDNIGHT = Date.UTC(2026, 2, 14, 21, 0, 0);

describe('business day and formats', () => {
  it.each([
    ['midday', NOW, MOSCOW_MIDNIGHT],
    ['just after Moscow midnight', MOSCOW_MIDNIGHT + 1, MOSCOW_MIDNIGHT],
    ['just before Moscow midnight (still the day before)', MOSCOW_MIDNIGHT - 1, MOSCOW_MIDNIGHT - 24 * HOUR],
    ['UTC midnight is 03:00 in Moscow', Date.UTC(2026, 2, 15), MOSCOW_MIDNIGHT],
  ])('%s', (_name, now, expected) => {
    expect(startOfBusinessDay(now)).toBe(expected);
  });

  it('reads and writes Moscow dates for date inputs', () => {
    expect(parseMoscowDate('2026-03-15')).toBe(MOSCOW_MIDNIGHT);
    expect(toMoscowDate(MOSCOW_MIDNIGHT)).toBe('2026-03-15');
    expect(parseMoscowDate('15.03.2026')).toBeNull();
    expect(parseMoscowDate('')).toBeNull();
  });

  it.each([
    [null, '—'],
    [45_000, '45 с'],
    [12 * 60_000, '12 мин'],
    [3 * HOUR + 5 * 60_000, '3 ч 5 мин'],
    [2 * 24 * HOUR + 4 * HOUR, '2 д 4 ч'],
  ])('formats the age %s as %s', (ms, text) => {
    expect(formatAge(ms, 'ru')).toBe(text);
  });
});

describe('dashboard figures from seeded rows', () => {
  const openDb = useTempDatabases();

  async function seed(): Promise<Db> {
    const db = openDb();
    const user = (id: string) =>
      db
        .prepare(
          `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES (?, ?, 'U', 'oidc', ?, ?, ?)`,
        )
        .run(id, `${id}@example.ru`, id, NOW - 48 * HOUR, NOW - 48 * HOUR);
    user('u1');
    user('u2');
    await applyCreditChange(db, { userId: 'u1', delta: 3, kind: 'trial', reference: 'trial:u1', now: NOW - 48 * HOUR });
    await applyCreditChange(db, { userId: 'u2', delta: 3, kind: 'trial', reference: 'trial:u2', now: NOW - 48 * HOUR });
    await applyCreditChange(db, { userId: 'u1', delta: 50, kind: 'payment', reference: 'payment:p1', now: NOW - HOUR });
    await applyCreditChange(db, { userId: 'u2', delta: 10, kind: 'payment', reference: 'payment:p2', now: NOW - 30 * HOUR });

    const gen = db.prepare(
      `INSERT INTO generations (id, userId, status, step, duration, cost, charged, refunded, generation_mode, submittedAt,
         error_stage, createdAt, updatedAt, completedAt)
       VALUES (@id, @user, @status, @step, 6, @cost, @charged, @refunded, 'prompt', @submittedAt, @stage, @createdAt, @createdAt, @completedAt)`,
    );
    const add = async (g: { id: string; user?: string; status: string; step: string; cost?: number; charged?: number; refunded?: number; submittedAt?: number | null; stage?: string | null; createdAt: number; completedAt?: number | null }) => {
      const row = { user: 'u1', cost: 1, charged: 0, refunded: 0, submittedAt: null, stage: null, completedAt: null, ...g };
      gen.run(row);
      await applyCreditChange(db, { userId: row.user, delta: -row.cost, kind: 'hold', reference: `hold:${row.id}`, now: row.createdAt });
      if (row.refunded) await applyCreditChange(db, { userId: row.user, delta: row.cost, kind: 'refund', reference: `refund:${row.id}`, now: row.createdAt });
    };
    await add({ id: 'g_ok_today', status: 'success', step: 'done', charged: 1, cost: 2, createdAt: NOW - 2 * HOUR });
    await add({ id: 'g_ok_old', status: 'success', step: 'done', charged: 1, createdAt: NOW - 40 * HOUR, user: 'u2' });
    await add({ id: 'g_q1', status: 'queued', step: 'prepare', createdAt: NOW - 7 * 60_000 });
    await add({ id: 'g_q2', status: 'queued', step: 'submit', createdAt: NOW - 60_000 });
    await add({ id: 'g_poll', status: 'processing', step: 'poll', submittedAt: NOW - 25 * 60_000, createdAt: NOW - 26 * 60_000 });
    await add({ id: 'g_dl', status: 'processing', step: 'download', submittedAt: NOW - 3 * 60_000, createdAt: NOW - 4 * 60_000 });
    await add({ id: 'g_f1', status: 'failed', step: 'done', refunded: 1, stage: 'MINIMAX_CALL', createdAt: NOW - 3 * HOUR, completedAt: NOW - 3 * HOUR });
    await add({ id: 'g_f2', status: 'failed', step: 'done', refunded: 1, stage: 'MINIMAX_CALL', createdAt: NOW - 13 * HOUR, completedAt: NOW - 12 * HOUR });
    await add({ id: 'g_f3', status: 'failed', step: 'poll', refunded: 1, stage: 'STUCK_GENERATION', createdAt: NOW - 5 * HOUR, completedAt: NOW - 4 * HOUR });
    await add({ id: 'g_f_old', status: 'failed', step: 'done', refunded: 1, stage: 'VIDEO_DOWNLOAD', createdAt: NOW - 30 * HOUR, completedAt: NOW - 30 * HOUR });

    paidPayment(db, { id: 'p1', userId: 'u1', amountKopecks: 149000, credits: 50, at: NOW - HOUR });
    paidPayment(db, { id: 'p2', userId: 'u2', amountKopecks: 39000, credits: 10, at: NOW - 30 * HOUR });
    seedPayment(db, { id: 'p3', userId: 'u2', amountKopecks: 499000, credits: 200, status: 'pending', at: NOW - 2 * HOUR });
    seedPayment(db, { id: 'p4', userId: 'u2', amountKopecks: 39000, credits: 10, status: 'pending', at: NOW - 10 * 60_000 });
    seedPayment(db, { id: 'p5', userId: 'u1', amountKopecks: 39000, credits: 10, status: 'canceled', at: NOW - 3 * HOUR });
    // Paid at YooKassa but not credited: awaits review.
    seedPayment(db, { id: 'p6', userId: 'u1', amountKopecks: 149000, credits: 50, status: 'succeeded', applied: false, at: NOW - 20 * 60_000 });

    for (let i = 0; i < 12; i += 1) {
      await recordAlert(db, { stage: 'MINIMAX_CALL', userId: null, generationId: null, message: `alert ${i}`, delivery: 'sent', deliveryError: null, createdAt: NOW - i * 60_000 });
    }
    return db;
  }

  it('counts generations today and in total by status, in Moscow days', async () => {
    const d = getDashboard(await seed(), NOW);
    expect(d.dayStart).toBe(MOSCOW_MIDNIGHT);
    expect(d.generations.total).toEqual({ queued: 2, processing: 2, success: 2, failed: 4 });
    expect(d.generations.today).toEqual({ queued: 2, processing: 2, success: 1, failed: 2 });
  });

  it('shows the queue: length, tasks at MiniMax, oldest waits', async () => {
    const d = getDashboard(await seed(), NOW);
    expect(d.queue).toEqual({ queued: 2, inFlight: 1, processing: 2, oldestQueuedAgeMs: 7 * 60_000, oldestProcessingAgeMs: 25 * 60_000 });
  });

  it('groups failures of the last 24 hours by stage', async () => {
    expect(getDashboard(await seed(), NOW).failuresLast24h).toEqual([
      { stage: 'MINIMAX_CALL', count: 2 },
      { stage: 'STUCK_GENERATION', count: 1 },
    ]);
  });

  it('sums revenue of succeeded payments today and in total, in kopecks', async () => {
    expect(getDashboard(await seed(), NOW).revenue).toEqual({
      todayKopecks: 149000 + 149000,
      totalKopecks: 149000 + 39000 + 149000,
      paymentsToday: 2,
      paymentsTotal: 3,
    });
  });

  it('reports credits sold, spent, held and refunded from the ledger and the generations', async () => {
    expect(getDashboard(await seed(), NOW).credits).toEqual({ sold: 60, spent: 3, held: 4, refunded: 4, trial: 6, adminNet: 0 });
  });

  it('flags payment problems and keeps the ledger figure at zero while balances match', async () => {
    const db = await seed();
    const d = getDashboard(db, NOW);
    expect(d.stalePendingPayments).toBe(1);
    expect(d.paymentsNeedingReview).toBe(1);
    expect(d.ledgerMismatches).toBe(0);
    expect(d.recentAlerts).toHaveLength(10);
    expect(d.recentAlerts[0]?.message).toBe('alert 0');

    db.prepare(`UPDATE users SET generation_balance = generation_balance + 7 WHERE id = 'u2'`).run();
    expect(getDashboard(db, NOW).ledgerMismatches).toBe(1);
  });

  it('shows nothing waiting on an empty database', () => {
    const d = getDashboard(openDb(), NOW);
    expect(d.queue).toEqual({ queued: 0, inFlight: 0, processing: 0, oldestQueuedAgeMs: null, oldestProcessingAgeMs: null });
    expect(d.revenue.totalKopecks).toBe(0);
    expect(d.failuresLast24h).toEqual([]);
  });
});

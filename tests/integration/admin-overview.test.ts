import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { paidPayment } from '../helpers/fixtures.ts';

/** The admin overview's charts and the generation pages' wording, as the server renders them. */
describe('admin overview', () => {
  let app: TestApp;
  let adminCookie: string;
  // 15 March 2026, 12:00 in Moscow.
  const clock = new ManualClock(Date.UTC(2026, 2, 15, 9, 0, 0));
  const HOUR = 3_600_000;

  beforeAll(async () => {
    app = await startApp({ clock });
    adminCookie = (await createSignedInUser(app.ctx, { role: 'admin' })).cookie;
    const seller = (await createSignedInUser(app.ctx, { email: 'seller@example.ru' })).user;
    const now = clock.now();
    const gen = app.ctx.db.prepare(
      `INSERT INTO generations (id, userId, status, step, duration, cost, generation_mode, attempt, submittedAt, error_stage, createdAt, updatedAt, completedAt)
       VALUES (@id, @user, @status, 'done', 10, 2, 'template', @attempt, @submittedAt, @stage, @at, @at, @at)`,
    );
    // Seven worker passes (submit, five polls, download), no retry.
    gen.run({ id: 'gen_chart_ok', user: seller.id, status: 'success', attempt: 7, submittedAt: now - HOUR - 95_000, stage: null, at: now - HOUR });
    app.ctx.db
      .prepare(`INSERT INTO generation_events (generationId, kind, attempt, createdAt) VALUES ('gen_chart_ok', 'minimax_success', 6, ?)`)
      .run(now - HOUR - 5000);
    gen.run({ id: 'gen_chart_failed', user: seller.id, status: 'failed', attempt: 3, submittedAt: null, stage: 'MINIMAX_CALL', at: now - 2 * HOUR });
    app.ctx.db
      .prepare(`INSERT INTO generation_events (generationId, kind, attempt, detail, createdAt) VALUES ('gen_chart_failed', 'retry', 1, 'MINIMAX_CALL 1002 in 2000 ms', ?)`)
      .run(now - 2 * HOUR - 60_000);
    paidPayment(app.ctx.db, { id: 'pay_chart', userId: seller.id, at: now - HOUR });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const html = async (path: string) => (await (await apiFetch(app.url, path, { cookie: adminCookie })).text()).replace(/\s+/g, ' ');

  it('draws four charts as SVG images with text alternatives, and keeps the numbers as tables', async () => {
    const page = await html('/admin');
    for (const id of ['videos', 'revenue', 'failures', 'minimax']) {
      expect(page).toContain(`data-testid="chart-${id}"`);
      expect(page).toMatch(new RegExp(`<svg[^>]*role="img"[^>]*aria-labelledby="${id}-title ${id}-desc"`));
      expect(page).toContain(`data-testid="chart-${id}-table"`);
    }
    expect(page).toContain('готовы 1, не получились 1');
    expect(page).toMatch(/получено 1\s490,00\s₽ в платежах: 1/);
    expect(page).toContain('За 30 дней сбоев: 1; чаще всего — MINIMAX_CALL (1).');
    expect(page).toContain('медиана 90 с, 95-й процентиль 90 с');
    // The table row of today: one ready, one failed.
    expect(page).toMatch(/<th scope="row">15\.03<\/th>\s?<td class="num">1<\/td>\s?<td class="num">1<\/td>/);
    // No script draws them.
    expect(page).not.toMatch(/<script(?![^>]*type="application\/json")(?![^>]*src=)[^>]*>/);
  });

  it('writes seconds in Russian and counts retries, not worker passes', async () => {
    const detail = await html('/admin/generations/gen_chart_ok');
    expect(detail).toContain('шаблон, 10 сек');
    expect(detail).not.toMatch(/\d s,/);
    expect(detail).toMatch(/data-testid="gen-passes">7 · повторов после ошибок: 0</);
    expect(detail).not.toContain('Попытка');

    const list = await html('/admin/generations');
    expect(list).toContain('>Повторы<');
    expect(list).toMatch(/data-generation="gen_chart_ok".*?<td class="num">0<\/td> <td class="text-xs">/);
    expect(list).toMatch(/data-generation="gen_chart_failed".*?<td class="num">1<\/td> <td class="text-xs">MINIMAX_CALL/);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import {
  balanceOf,
  expectLedgerConsistent,
  generate,
  generationRow,
  ledgerOf,
  startPipelineStack,
  uploadPhoto,
  waitForStatus,
  waitUntil,
} from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { listAudit } from '../../src/lib/admin/audit.ts';
import { applyCreditChange } from '../../src/lib/billing/ledger.ts';

/**
 * Admin actions on generations against the real pipeline (worker running, sandbox MiniMax):
 * each one's effect on the row and the ledger, that money moves at most once, and the audit.
 */
describe('admin actions on generations', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  let admin: SignedInUser;
  beforeAll(async () => {
    stack = await startPipelineStack();
    admin = createSignedInUser(stack.app.ctx, { email: 'ops@example.ru', role: 'admin' });
  });
  afterAll(async () => {
    await stack.stop();
  });
  afterEach(async () => {
    await expectLedgerConsistent(stack.app.ctx);
  });

  const ctx = () => stack.app.ctx;
  const act = (id: string, action: string, json: unknown = {}) =>
    apiFetch(stack.app.url, `/api/admin/generations/${id}/${action}`, { cookie: admin.cookie, json });
  const refundLines = async (userId: string) => (await ledgerOf(ctx(), userId)).filter((l) => l.kind === 'refund');

  /** A user with a photo and one generation run to its end (a MiniMax failure when `fail`). */
  async function finishedGeneration(options: { fail?: boolean; balance?: number } = {}) {
    const seller = createSignedInUser(ctx(), { balance: options.balance ?? 5 });
    expect((await uploadPhoto(stack.app.url, seller.cookie)).status).toBe(200);
    if (options.fail) stack.minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const res = await generate(stack.app.url, seller.cookie, { prompt: 'Кружка кофе на столе, пар поднимается', duration: 6, mode: 'prompt' });
    expect(res.status).toBe(200);
    const { generationId } = (await res.json()) as { generationId: string };
    const status = await waitForStatus(stack.app.url, seller.cookie, generationId);
    expect(status.status).toBe(options.fail ? 'failed' : 'success');
    return { seller, generationId };
  }

  /** A generation at MiniMax (step poll) that the worker will not look at for an hour. */
  function processingGeneration(seller: SignedInUser, cost = 2): string {
    const id = `gen_admin_${Math.random().toString(36).slice(2, 10)}`;
    const now = ctx().clock.now();
    ctx()
      .db.prepare(
        `INSERT INTO generations (id, userId, status, step, duration, cost, prompt, generation_mode, minimax_job_id,
           submittedAt, next_attempt_at, createdAt, updatedAt)
         VALUES (?, ?, 'processing', 'poll', 10, ?, 'часы на запястье', 'prompt', ?, ?, ?, ?, ?)`,
      )
      .run(id, seller.user.id, cost, `task-${id}`, now, now + 3_600_000, now, now);
    applyCreditChange(ctx().db, { userId: seller.user.id, delta: -cost, kind: 'hold', reference: `hold:${id}`, now });
    return id;
  }

  it('refunds a delivered video by hand exactly once; the second refund is a no-op', async () => {
    const { seller, generationId } = await finishedGeneration();
    expect(await generationRow(ctx(), generationId)).toMatchObject({ charged: 1, refunded: 0 });
    const before = await balanceOf(ctx(), seller.user.id);

    const noReason = await act(generationId, 'refund', {});
    expect(((await noReason.json()) as { code: string }).code).toBe('ADMIN_REASON_REQUIRED');
    const first = await act(generationId, 'refund', { reason: 'брак: логотип размыт' });
    expect(await first.json()).toMatchObject({ success: true, applied: true, credits: 1, notice: 'generation_refunded' });
    const second = await act(generationId, 'refund', { reason: 'брак: логотип размыт' });
    expect(await second.json()).toMatchObject({ success: true, applied: false, notice: 'already_done' });

    expect(await balanceOf(ctx(), seller.user.id)).toBe(before + 1);
    expect(await generationRow(ctx(), generationId)).toMatchObject({ status: 'success', charged: 0, refunded: 1 });
    expect(await refundLines(seller.user.id)).toEqual([expect.objectContaining({ delta: 1, reference: `refund:${generationId}` })]);
    expect(listAudit(ctx().db, { targetId: generationId }).map((a) => [a.action, a.actor, a.reason, a.detail?.changed])).toEqual([
      ['generation.refund', 'ops@example.ru', 'брак: логотип размыт', false],
      ['generation.refund', 'ops@example.ru', 'брак: логотип размыт', true],
    ]);
  });

  it('does not refund a failed generation twice (the worker already did)', async () => {
    const { seller, generationId } = await finishedGeneration({ fail: true });
    expect(await refundLines(seller.user.id)).toHaveLength(1);
    const res = await act(generationId, 'refund', { reason: 'на всякий случай' });
    expect(await res.json()).toMatchObject({ applied: false });
    expect(await refundLines(seller.user.id)).toHaveLength(1);
  });

  it('retries a failed generation with a new hold, once', async () => {
    const { seller, generationId } = await finishedGeneration({ fail: true, balance: 3 });
    expect(await balanceOf(ctx(), seller.user.id)).toBe(3);
    const res = await act(generationId, 'retry', {});
    const body = (await res.json()) as { generationId: string; cost: number; applied: boolean };
    expect(body).toMatchObject({ success: true, applied: true, cost: 1 });
    expect(await balanceOf(ctx(), seller.user.id)).toBe(2);
    expect(await ledgerOf(ctx(), seller.user.id)).toContainEqual(expect.objectContaining({ kind: 'hold', delta: -1, reference: `hold:${body.generationId}` }));

    const retried = await waitForStatus(stack.app.url, seller.cookie, body.generationId);
    expect(retried.status).toBe('success');
    expect(await generationRow(ctx(), body.generationId)).toMatchObject({ charged: 1, prompt: 'Кружка кофе на столе, пар поднимается', idempotency_key: `retry-of:${generationId}` });

    const again = await act(generationId, 'retry', {});
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'GENERATION_ALREADY_RETRIED' });
    expect(listAudit(ctx().db, { targetId: generationId })[0]).toMatchObject({ action: 'generation.retry', detail: { generationId: body.generationId, free: false, cost: 1 } });
  });

  it('retries for free only with a reason, taking no credits', async () => {
    const { seller, generationId } = await finishedGeneration({ fail: true, balance: 0 + 1 });
    const balance = await balanceOf(ctx(), seller.user.id);
    const noReason = await act(generationId, 'retry', { free: true });
    expect(((await noReason.json()) as { code: string }).code).toBe('ADMIN_REASON_REQUIRED');
    const res = await act(generationId, 'retry', { free: true, reason: 'сбой MiniMax, извинения' });
    const body = (await res.json()) as { generationId: string; cost: number };
    expect(body.cost).toBe(0);
    expect((await waitForStatus(stack.app.url, seller.cookie, body.generationId)).status).toBe('success');
    expect(await balanceOf(ctx(), seller.user.id)).toBe(balance);
    expect((await ledgerOf(ctx(), seller.user.id)).filter((l) => l.reference === `hold:${body.generationId}`)).toEqual([]);
  });

  it('refuses to retry without credits for a paid retry (402), changing nothing', async () => {
    const { seller, generationId } = await finishedGeneration({ fail: true, balance: 1 });
    applyCreditChange(ctx().db, { userId: seller.user.id, delta: -1, kind: 'admin_adjustment', reference: `drain:${generationId}`, now: ctx().clock.now() });
    const res = await act(generationId, 'retry', {});
    expect(res.status).toBe(402);
    expect(await res.json()).toMatchObject({ code: 'INSUFFICIENT_BALANCE', required: 1, current: 0 });
    expect(ctx().db.prepare('SELECT COUNT(*) FROM generations WHERE idempotency_key = ?').pluck().get(`retry-of:${generationId}`)).toBe(0);
    expect(listAudit(ctx().db, { targetId: generationId })).toEqual([]);
  });

  it('marks a stuck generation failed and refunds it once, however often it is asked', async () => {
    const seller = createSignedInUser(ctx(), { balance: 4 });
    const id = processingGeneration(seller);
    expect(await balanceOf(ctx(), seller.user.id)).toBe(2);
    const noReason = await act(id, 'fail', {});
    expect(((await noReason.json()) as { code: string }).code).toBe('ADMIN_REASON_REQUIRED');

    const results = await Promise.all([1, 2, 3].map(() => act(id, 'fail', { reason: 'завис у MiniMax' }).then((r) => r.json())));
    expect(results.filter((r) => (r as { applied: boolean }).applied)).toHaveLength(1);
    expect(await balanceOf(ctx(), seller.user.id)).toBe(4);
    expect(await refundLines(seller.user.id)).toEqual([expect.objectContaining({ delta: 2, reference: `refund:${id}` })]);
    expect(await generationRow(ctx(), id)).toMatchObject({ status: 'failed', refunded: 1, error_stage: 'ADMIN', error_code: 'STOPPED_BY_SUPPORT' });
    // The owner reads that support stopped it, not that it "took too long".
    const status = (await (await apiFetch(stack.app.url, `/api/status?generationId=${id}`, { cookie: seller.cookie })).json()) as { error: string };
    expect(status.error).toBe('Этот ролик остановила поддержка Beem. Запустите его снова или напишите нам, если нужна помощь.');
    // Still watched for a late result from MiniMax, which would be delivered free.
    expect((await generationRow(ctx(), id)).step).toBe('poll');

    const done = await act(id, 'fail', { reason: 'ещё раз' });
    expect(await done.json()).toMatchObject({ applied: false });
    expect(await refundLines(seller.user.id)).toHaveLength(1);
  });

  it('fails a generation whose video is downloading without starting a second download beside it; the video comes free', async () => {
    const seller = createSignedInUser(ctx(), { balance: 3 });
    expect((await uploadPhoto(stack.app.url, seller.cookie)).status).toBe(200);
    const downloads = () => (stack.minimax.state().requestCounts.download ?? 0) as number;
    const before = downloads();
    // The CDN answers only after 1.5 s: the admin acts while the worker holds the row.
    stack.minimax.injectFault({ kind: 'slow_download', firstByteDelayMs: 1500, bytesPerSecond: 50 * 1024 * 1024 });
    const res = await generate(stack.app.url, seller.cookie, { prompt: 'Часы на запястье, блик на стекле', duration: 6, mode: 'prompt' });
    const { generationId: id } = (await res.json()) as { generationId: string };
    await waitUntil(async () => (await generationRow(ctx(), id)).step === 'download' && downloads() > before, 10_000, 'the download to start');

    const failed = await act(id, 'fail', { reason: 'клиент просил остановить' });
    expect(await failed.json()).toMatchObject({ applied: true });
    const done = await waitForStatus(stack.app.url, seller.cookie, id, ['success']);
    expect(done).toMatchObject({ status: 'success', refunded: true, charged: false });
    expect(downloads() - before).toBe(1);
    expect(await balanceOf(ctx(), seller.user.id)).toBe(3);
    expect(await refundLines(seller.user.id)).toHaveLength(1);
  });

  it('refuses to refund a live generation (fail it instead) and to fail a delivered one', async () => {
    const seller = createSignedInUser(ctx(), { balance: 3 });
    const id = processingGeneration(seller, 1);
    const refund = await act(id, 'refund', { reason: 'рано' });
    expect(refund.status).toBe(409);
    expect(await refund.json()).toMatchObject({ code: 'GENERATION_NOT_REFUNDABLE' });
    const { generationId } = await finishedGeneration();
    const fail = await act(generationId, 'fail', { reason: 'поздно' });
    expect(fail.status).toBe(409);
    expect(await fail.json()).toMatchObject({ code: 'GENERATION_NOT_FAILABLE' });
    const missing = await act('gen_missing', 'fail', { reason: 'нет такой' });
    expect(missing.status).toBe(404);
  });

  it('requeues a waiting generation: made due now for the worker, audited', async () => {
    const seller = createSignedInUser(ctx(), { balance: 3 });
    const id = processingGeneration(seller, 1);
    const res = await act(id, 'requeue', { reason: 'проверить сейчас' });
    expect(await res.json()).toMatchObject({ success: true, applied: true, notice: 'generation_requeued' });
    expect(ctx().db.prepare(`SELECT kind FROM generation_events WHERE generationId = ?`).pluck().all(id)).toContain('made_due');
    expect(listAudit(ctx().db, { targetId: id })[0]).toMatchObject({ action: 'generation.requeue', reason: 'проверить сейчас' });
    // The worker polls it at once (MiniMax does not know this made-up task) instead of in an hour.
    await waitUntil(async () => (await generationRow(ctx(), id)).last_polled_at !== null || (await generationRow(ctx(), id)).status === 'failed', 5000, 'the worker to poll');

    const { generationId } = await finishedGeneration();
    const done = await act(generationId, 'requeue', {});
    expect(done.status).toBe(409);
    expect(await done.json()).toMatchObject({ code: 'GENERATION_NOT_REQUEUEABLE' });
  });

  it('re-queries MiniMax now and shows its answer', async () => {
    const { generationId } = await finishedGeneration();
    const res = await act(generationId, 'requery');
    expect(await res.json()).toMatchObject({ success: true, state: 'success', failureCode: null });
    expect(listAudit(ctx().db, { targetId: generationId })[0]).toMatchObject({
      action: 'generation.requery',
      detail: { taskId: (await generationRow(ctx(), generationId)).minimax_job_id, state: 'success' },
    });
    const seller = createSignedInUser(ctx(), { balance: 1 });
    const unknown = processingGeneration(seller, 1);
    const failed = await act(unknown, 'requery');
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ code: 'MINIMAX_UNAVAILABLE' });
  });

  it('shows the generation page with every prompt stage, the history and the media', async () => {
    const { generationId } = await finishedGeneration();
    const row = await generationRow(ctx(), generationId);
    const html = await (await apiFetch(stack.app.url, `/admin/generations/${generationId}`, { cookie: admin.cookie })).text();
    expect(html).toContain('Кружка кофе на столе, пар поднимается');
    expect(html).toContain(row.minimax_job_id as string);
    for (const kind of ['created', 'submitted', 'succeeded']) expect(html).toContain(`<td>${kind}</td>`);
    expect(html).toContain(`/api/video/${generationId}`);
    expect(html).toContain(`/api/uploads/${row.upload_id as string}`);
    // The owner-or-admin node routes serve the admin the user's files.
    const video = await apiFetch(stack.app.url, `/api/video/${generationId}`, { cookie: admin.cookie, headers: { range: 'bytes=0-15' } });
    expect(video.status).toBe(206);

    const list = await (await apiFetch(stack.app.url, `/admin/generations?status=success&mode=prompt&user=${encodeURIComponent(row.userId as string)}`, { cookie: admin.cookie })).text();
    expect(list).toContain(generationId);
    const none = await (await apiFetch(stack.app.url, '/admin/generations?status=queued&from=2000-01-01&to=2000-01-02', { cookie: admin.cookie })).text();
    expect(none).not.toContain(generationId);
  });
});

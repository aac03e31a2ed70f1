import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
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
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { GenerationWorker } from '../../src/lib/generation/worker.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import type { OpenAiEmulator } from '../../sandbox/openai/index.ts';

/**
 * `POST /api/generations/:id/cancel` (issue 16 §5): a seller stops a generation that has not
 * reached MiniMax and gets the credits back at once, exactly once. The unit tests
 * (generation-cancel.test.ts) race the queue's writes; here the real worker and the MiniMax
 * emulator take part.
 */

const cancel = (app: TestApp, cookie: string, id: string, init: { sameOrigin?: boolean } = {}) =>
  apiFetch(app.url, `/api/generations/${id}/cancel`, { method: 'POST', cookie, headers: { 'accept-language': 'ru' }, ...init });

async function startGeneration(app: TestApp, seller: SignedInUser, duration = 6): Promise<string> {
  expect((await uploadPhoto(app.url, seller.cookie)).status).toBe(200);
  const res = await generate(app.url, seller.cookie, { prompt: 'Кроссовки на беговой дорожке', duration, mode: 'prompt' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { generationId: string }).generationId;
}

const refundsOf = async (app: TestApp, userId: string, id: string) => (await ledgerOf(app.ctx, userId)).filter((line) => line.reference === `refund:${id}`);

describe('cancel before MiniMax (no worker running)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('fails a queued generation with USER_CANCELED and returns the credits at once; a second cancel changes nothing', async () => {
    const seller = await createSignedInUser(app.ctx, { balance: 5 });
    const id = await startGeneration(app, seller, 10);
    expect(await balanceOf(app.ctx, seller.user.id)).toBe(3);

    const first = await cancel(app, seller.cookie, id);
    expect(first.status).toBe(200);
    const view = await first.json();
    expect(view).toMatchObject({ id, status: 'failed', errorReason: 'USER_CANCELED', refunded: true, charged: false, etaMs: null });
    expect(view.error).toContain('Вы отменили этот ролик');
    expect(await balanceOf(app.ctx, seller.user.id)).toBe(5);

    const second = await cancel(app, seller.cookie, id);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ status: 'failed', errorReason: 'USER_CANCELED' });
    expect(await balanceOf(app.ctx, seller.user.id)).toBe(5);
    expect(await refundsOf(app, seller.user.id, id)).toEqual([{ kind: 'refund', delta: 2, reference: `refund:${id}` }]);
    expect(await generationRow(app.ctx, id)).toMatchObject({ error_stage: 'USER', error_code: 'USER_CANCELED' });
    // The seller chose it: nothing for the operator.
    expect(await app.ctx.db.value('SELECT COUNT(*) FROM operator_alerts')).toBe(0);
    await expectLedgerConsistent(app.ctx);
  });

  it('answers 404 for someone else’s generation and leaves it running', async () => {
    const owner = await createSignedInUser(app.ctx, { balance: 5 });
    const id = await startGeneration(app, owner);
    const stranger = await createSignedInUser(app.ctx, { balance: 5 });
    const res = await cancel(app, stranger.cookie, id);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'GENERATION_NOT_FOUND' });
    expect(await generationRow(app.ctx, id)).toMatchObject({ status: 'queued', refunded: 0 });
    expect((await cancel(app, owner.cookie, 'gen_does_not_exist')).status).toBe(404);
  });

  it('needs a session and a same-site request', async () => {
    const owner = await createSignedInUser(app.ctx, { balance: 5 });
    const id = await startGeneration(app, owner);
    expect((await cancel(app, '', id)).status).toBe(401);
    const crossSite = await cancel(app, owner.cookie, id, { sameOrigin: false });
    expect(crossSite.status).toBe(403);
    expect(await generationRow(app.ctx, id)).toMatchObject({ status: 'queued', refunded: 0 });
  });

  it('refuses with a clear sentence once MiniMax has the task, and after the video is delivered', async () => {
    const owner = await createSignedInUser(app.ctx, { balance: 5 });
    const atMinimax = await startGeneration(app, owner);
    await app.ctx.db.run(`UPDATE generations SET status = 'processing', step = 'poll', minimax_job_id = 'task-at-minimax', submittedAt = createdAt WHERE id = ?`, [atMinimax]);
    const refused = await cancel(app, owner.cookie, atMinimax);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'GENERATION_AT_MINIMAX', error: expect.stringContaining('отменить его нельзя') });

    const delivered = await startGeneration(app, owner);
    await app.ctx.db.run(`UPDATE generations SET status = 'success', step = 'done', charged = 1 WHERE id = ?`, [delivered]);
    const late = await cancel(app, owner.cookie, delivered);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: 'GENERATION_ALREADY_FINISHED' });
    expect(await balanceOf(app.ctx, owner.user.id)).toBe(3);
    expect(await refundsOf(app, owner.user.id, atMinimax)).toEqual([]);
    expect(await refundsOf(app, owner.user.id, delivered)).toEqual([]);
  });
});

describe('cancel against the running worker', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  beforeAll(async () => {
    stack = await startPipelineStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('while the create call is in flight: refused, and the video is delivered and charged once', async () => {
    const { app, minimax } = stack;
    // MiniMax makes the task at once but answers 1.5 s later: the call is under way meanwhile.
    minimax.injectFault({ kind: 'hang', on: 'create', ms: 1500, createTask: true });
    const seller = await createSignedInUser(app.ctx, { balance: 3 });
    const id = await startGeneration(app, seller);
    await waitUntil(async () => (await generationRow(app.ctx, id)).submit_started_at !== null, 10_000, 'the create call to start');
    const refused = await cancel(app, seller.cookie, id);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'GENERATION_AT_MINIMAX' });
    expect(await waitForStatus(app.url, seller.cookie, id)).toMatchObject({ status: 'success', charged: true, refunded: false });
    expect(await balanceOf(app.ctx, seller.user.id)).toBe(2);
    expect(await refundsOf(app, seller.user.id, id)).toEqual([]);
    await expectLedgerConsistent(app.ctx);
  });

  it('the status says `cancellable` while a cancel would work, and stops saying it once the create call starts', async () => {
    const { app, minimax } = stack;
    // The prompt step takes 1.5 s, and MiniMax answers the create call 1.5 s after making the task.
    stack.sandbox.emulator<OpenAiEmulator>('openai').injectFault({ kind: 'delay', ms: 1500, phase: 'enhancer' });
    minimax.injectFault({ kind: 'hang', on: 'create', ms: 1500, createTask: true });
    const seller = await createSignedInUser(app.ctx, { balance: 3 });
    const id = await startGeneration(app, seller);
    const status = async () => (await (await apiFetch(app.url, `/api/status?generationId=${id}`, { cookie: seller.cookie })).json()) as Record<string, unknown>;
    expect(await status()).toMatchObject({ status: 'queued', cancellable: true });

    await waitUntil(async () => (await generationRow(app.ctx, id)).submit_started_at !== null, 10_000, 'the create call to start');
    // Still queued (MiniMax has not answered), but a cancel would be refused: the status says so.
    expect(await status()).toMatchObject({ status: 'queued', cancellable: false });
    expect((await cancel(app, seller.cookie, id)).status).toBe(409);
    expect(await waitForStatus(app.url, seller.cookie, id)).toMatchObject({ status: 'success', cancellable: false });
    const history = (await (await apiFetch(app.url, '/api/generations', { cookie: seller.cookie })).json()) as { items: Array<Record<string, unknown>> };
    expect(history.items[0]).toMatchObject({ id, cancellable: false });
  });

  it('before the worker takes it: MiniMax never hears of it, and the next one goes through', async () => {
    const { app, minimax } = stack;
    await app.ctx.generationWorker.stop();
    const seller = await createSignedInUser(app.ctx, { balance: 3 });
    const canceled = await startGeneration(app, seller);
    expect((await cancel(app, seller.cookie, canceled)).status).toBe(200);
    const tasksBefore = minimax.tasks().length;

    const { db, config, log, clock, minimax: client, promptEngine, notifier, blobs } = app.ctx;
    const next = new GenerationWorker({ db, config, log, clock, minimax: client, promptEngine, notifier, blobs });
    next.start();
    try {
      const after = await startGeneration(app, seller);
      expect(await waitForStatus(app.url, seller.cookie, after)).toMatchObject({ status: 'success' });
      // Only the second generation reached MiniMax.
      expect(minimax.tasks().length).toBe(tasksBefore + 1);
      expect(await generationRow(app.ctx, canceled)).toMatchObject({ status: 'failed', error_code: 'USER_CANCELED', submit_started_at: null, minimax_job_id: null });
      expect(await balanceOf(app.ctx, seller.user.id)).toBe(2);
      expect(await refundsOf(app, seller.user.id, canceled)).toHaveLength(1);
      await expectLedgerConsistent(app.ctx);
    } finally {
      await next.stop();
    }
  });
});

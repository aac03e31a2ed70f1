import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
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

/** STUCK_AFTER_MS is one second here and MiniMax takes 2.5 s: every task counts as stuck. */
describe('a generation stuck at MiniMax', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  beforeAll(async () => {
    stack = await startPipelineStack({
      env: { STUCK_AFTER_MS: '1000', QUEUE_SWEEP_INTERVAL_MS: '100', POLL_INTERVAL_MS: '100' },
      minimax: { stepMs: { processing: 2500 }, render: { ffmpeg: null } },
    });
  });
  afterAll(async () => {
    await stack.stop();
  });

  async function start() {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 2 });
    await uploadPhoto(stack.app.url, cookie);
    const res = await generate(stack.app.url, cookie, { prompt: 'Кружка кофе, пар поднимается', duration: 6, mode: 'prompt' });
    const { generationId } = (await res.json()) as { generationId: string };
    return { user, cookie, id: generationId };
  }

  it('is failed, refunded and reported, and a late video is still delivered free', async () => {
    const { user, cookie, id } = await start();
    const failed = await waitForStatus(stack.app.url, cookie, id, ['failed', 'success']);
    expect(failed).toMatchObject({ status: 'failed', refunded: true, charged: false, errorReason: 'TIMED_OUT' });
    expect(failed.error).toMatch(/слишком долго.*Если он всё же появится, то бесплатно окажется в «Моих роликах»/);
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(2);
    await stack.app.ctx.notifier.flush();
    expect(
      (await stack.app.ctx.db.all<{ stage: string }>(`SELECT stage FROM operator_alerts WHERE generationId = ? AND stage = 'STUCK_GENERATION'`, [id])).map((r) => r.stage),
    ).toEqual(['STUCK_GENERATION']);

    const late = await waitForStatus(stack.app.url, cookie, id, ['success']);
    expect(late).toMatchObject({ status: 'success', refunded: true, charged: false, error: null });
    const video = await apiFetch(stack.app.url, late.videoUrl!, { cookie });
    expect(Buffer.from(await video.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
    // Free: the hold and its refund, nothing else; the sweep never refunds twice.
    expect((await ledgerOf(stack.app.ctx, user.id)).filter((l) => l.reference.endsWith(id)).map((l) => [l.kind, l.delta])).toEqual([
      ['hold', -1],
      ['refund', 1],
    ]);
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(2);
    await expectLedgerConsistent(stack.app.ctx);
  });

  it('keeps telling the owner it took too long when a late check hits a MiniMax error', async () => {
    stack.minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const { cookie, id } = await start();
    expect((await waitForStatus(stack.app.url, cookie, id, ['failed'])).errorReason).toBe('TIMED_OUT');
    // The late watch's next queries meet a gateway error before MiniMax ends the task.
    stack.minimax.injectFault({ kind: 'http_error', on: 'query', status: 502, count: 2 });
    await waitUntil(async () => (await generationRow(stack.app.ctx, id)).step === 'done', 10_000, 'the watch to end');
    expect(await generationRow(stack.app.ctx, id)).toMatchObject({ status: 'failed', error_stage: 'STUCK_GENERATION', error_code: 'STUCK' });
    expect((await waitForStatus(stack.app.url, cookie, id, ['failed'])).errorReason).toBe('TIMED_OUT');
    await expectLedgerConsistent(stack.app.ctx);
  });

  it('stops watching when MiniMax later fails the task, with no second refund', async () => {
    stack.minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const { user, cookie, id } = await start();
    expect((await waitForStatus(stack.app.url, cookie, id, ['failed'])).errorReason).toBe('TIMED_OUT');
    await waitUntil(async () => (await generationRow(stack.app.ctx, id)).step === 'done', 10_000, 'the watch to end');
    expect(await generationRow(stack.app.ctx, id)).toMatchObject({ status: 'failed', refunded: 1, charged: 0, error_code: 'STUCK' });
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(2);
    await expectLedgerConsistent(stack.app.ctx);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedInUser } from '../helpers/users.ts';
import { balanceOf, expectLedgerConsistent, generate, ledgerOf, startPipelineStack, uploadPhoto, waitForStatus } from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';

/**
 * MiniMax allows a fixed number of video tasks per key and minute and answers 1002 beyond it
 * (reference §9). Here the window is half a second, so a burst meets the limit at once:
 * Beem's backoff must pace the submissions until every one is accepted, and each video is
 * charged exactly once (one hold, no refund; one task at MiniMax).
 */
describe('a burst of generations against MiniMax’s rate limit', () => {
  const LIMIT = 2;
  const WINDOW_MS = 500;
  const BURST = 6;
  let stack: TestStack & { minimax: MinimaxEmulator };
  beforeAll(async () => {
    stack = await startPipelineStack({
      // Backoff of the order of the window, and attempts enough to outlast three windows.
      env: { QUEUE_BACKOFF_BASE_MS: '100', QUEUE_BACKOFF_MAX_MS: '400', QUEUE_MAX_ATTEMPTS: '12' },
      minimax: { rpmLimit: LIMIT, rpmWindowMs: WINDOW_MS, render: { ffmpeg: null } },
    });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('is paced by the backoff: all complete, each charged once', async () => {
    const { app } = stack;
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: BURST });
    expect((await uploadPhoto(app.url, cookie)).status).toBe(200);
    const ids: string[] = [];
    for (let i = 0; i < BURST; i += 1) {
      const res = await generate(app.url, cookie, { prompt: `Кроссовки на витрине, кадр ${i + 1}, панорама влево`, duration: 6, mode: 'prompt' });
      expect(res.status).toBe(200);
      ids.push(((await res.json()) as { generationId: string }).generationId);
    }
    const finals = await Promise.all(ids.map((id) => waitForStatus(app.url, cookie, id, ['success', 'failed'], 30_000)));
    expect(finals.map((s) => [s.status, s.charged, s.refunded])).toEqual(ids.map(() => ['success', true, false]));

    const state = stack.minimax.state();
    // The limit was met (1002 answers), and MiniMax made one task per generation, no more.
    expect(state.requestCounts.create).toBeGreaterThan(BURST);
    expect(state.tasks).toHaveLength(BURST);

    for (const id of ids) expect((await ledgerOf(app.ctx, user.id)).filter((l) => l.reference.endsWith(id)).map((l) => [l.kind, l.delta])).toEqual([['hold', -1]]);
    expect(await balanceOf(app.ctx, user.id)).toBe(0);
    await expectLedgerConsistent(app.ctx);
  });
});

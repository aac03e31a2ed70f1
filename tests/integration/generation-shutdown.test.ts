import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedInUser } from '../helpers/users.ts';
import { balanceOf, expectLedgerConsistent, generate, generationRow, startPipelineStack, uploadPhoto, waitForStatus, waitUntil } from '../helpers/generation.ts';
import { GenerationWorker } from '../../src/lib/generation/worker.ts';
import { relativeUserFile } from '../../src/lib/storage.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';

describe('worker shutdown', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  beforeAll(async () => {
    // A 2.5 s shutdown budget leaves the worker 0.5 s to let a step finish before cutting it short.
    stack = await startPipelineStack({ env: { SHUTDOWN_TIMEOUT_MS: '2500' }, minimax: { render: { ffmpeg: null } } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('stops claiming, cuts a long download short, releases its row, and a new worker finishes it once', async () => {
    const { app } = stack;
    stack.minimax.injectFault({ kind: 'slow_download', bytesPerSecond: 2048 });
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 2 });
    await uploadPhoto(app.url, cookie);
    const { generationId: id } = (await (await generate(app.url, cookie, { prompt: 'Лампа на столе, свет включается', duration: 6, mode: 'prompt' })).json()) as {
      generationId: string;
    };
    // The CDN took the slow-download fault: the video is streaming into the store.
    await waitUntil(() => stack.minimax.state().pendingFaults.length === 0, 10_000, 'the download to start');

    const started = Date.now();
    await app.ctx.generationWorker.stop();
    // At 2 KB/s the clip would take about 20 s: stopping well before that means it was cut short.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await generationRow(app.ctx, id)).toMatchObject({ status: 'processing', step: 'download', locked_until: null, locked_by: null });
    // Nothing of the cut download is kept: no video, and on disk no partial file beside it.
    expect(await app.ctx.blobs.exists(relativeUserFile(user.id, 'videos', `${id}.mp4`))).toBe(false);
    if (app.ctx.blobs.kind === 'local') expect(fs.readdirSync(path.join(app.ctx.config.paths.storageDir, 'users', user.id, 'videos'))).toEqual([]);

    const { db, config, log, clock, minimax, promptEngine, notifier, blobs } = app.ctx;
    const next = new GenerationWorker({ db, config, log, clock, minimax, promptEngine, notifier, blobs });
    next.start();
    try {
      expect(await waitForStatus(app.url, cookie, id)).toMatchObject({ status: 'success', charged: true });
      expect(await balanceOf(app.ctx, user.id)).toBe(1);
      await expectLedgerConsistent(app.ctx);
    } finally {
      await next.stop();
    }
  });

  it('at start, takes back the rows of a previous process that had the same pid (a container restarted, node as pid 1)', async () => {
    const { app } = stack;
    await app.ctx.generationWorker.stop();
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 2 });
    await uploadPhoto(app.url, cookie);
    const { generationId: id } = (await (await generate(app.url, cookie, { prompt: 'Кроссовки на асфальте, капли дождя', duration: 6, mode: 'prompt' })).json()) as {
      generationId: string;
    };
    // The killed process held the row for another hour; its pid is ours again after the restart.
    await app.ctx.db.run('UPDATE generations SET locked_until = ?, locked_by = ?, attempt = attempt + 1 WHERE id = ?', [app.ctx.clock.now() + 3_600_000, `${os.hostname()}:${process.pid}:before-restart`, id]);

    const { db, config, log, clock, minimax, promptEngine, notifier, blobs } = app.ctx;
    const next = new GenerationWorker({ db, config, log, clock, minimax, promptEngine, notifier, blobs });
    next.start();
    try {
      expect(await waitForStatus(app.url, cookie, id)).toMatchObject({ status: 'success', charged: true });
      expect(await balanceOf(app.ctx, user.id)).toBe(1);
      await expectLedgerConsistent(app.ctx);
    } finally {
      await next.stop();
    }
  });
});

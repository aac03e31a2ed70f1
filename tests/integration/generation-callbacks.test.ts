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
import type { MinimaxFaultInput } from '../../sandbox/minimax/faults.ts';

type Stack = TestStack & { minimax: MinimaxEmulator };

function postCallback(baseUrl: string, body: unknown): Promise<Response> {
  // MiniMax sends no Origin and no cookie.
  return fetch(`${baseUrl}/minimax_callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const eventCount = async (stack: Stack) => (await stack.app.ctx.db.value('SELECT COUNT(*) FROM generation_events')) as number;

async function startGeneration(stack: Stack, faults: MinimaxFaultInput[] = []) {
  const { app } = stack;
  if (faults.length > 0) stack.minimax.injectFault(faults);
  const { user, cookie } = await createSignedInUser(app.ctx, { balance: 2 });
  await uploadPhoto(app.url, cookie);
  const res = await generate(app.url, cookie, { prompt: 'Часы на руке, камера следует за рукой', duration: 6, mode: 'prompt' });
  const { generationId } = (await res.json()) as { generationId: string };
  return { user, cookie, id: generationId };
}

/**
 * With MINIMAX_CALLBACK_URL set and a poll interval of a minute, only MiniMax's pushes can
 * make a generation finish within the test: each push triggers a confirming query.
 */
describe('MiniMax callbacks', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startPipelineStack({ callbacks: true, env: { POLL_INTERVAL_MS: '60000' }, minimax: { render: { ffmpeg: null } } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('echoes a challenge, and does nothing else with it', async () => {
    const events = await eventCount(stack);
    const res = await postCallback(stack.app.url, { challenge: '1a3cs1j-601a-118y-ch52-o48911eabc3u' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: '1a3cs1j-601a-118y-ch52-o48911eabc3u' });
    expect(await eventCount(stack)).toBe(events);
  });

  it('finishes a generation from the pushes, after verifying the callback URL', async () => {
    const { user, cookie, id } = await startGeneration(stack);
    const done = await waitForStatus(stack.app.url, cookie, id);
    expect(done).toMatchObject({ status: 'success', charged: true });
    const row = await generationRow(stack.app.ctx, id);
    expect(row.last_callback_at).toEqual(expect.any(Number));
    const task = stack.minimax.task(row.minimax_job_id as string) as unknown as { callbackUrl: string };
    expect(task.callbackUrl).toBe(`${stack.app.url}/minimax_callback`);
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(1);
    await expectLedgerConsistent(stack.app.ctx);
  });

  it('charges once when every push arrives twice', async () => {
    const { user, cookie, id } = await startGeneration(stack, [{ kind: 'duplicate_callbacks', copies: 3 }]);
    expect((await waitForStatus(stack.app.url, cookie, id)).status).toBe('success');
    const job = (await generationRow(stack.app.ctx, id)).minimax_job_id as string;
    const deliveries = await stack.minimax.callbacksSettled(job);
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    expect((await ledgerOf(stack.app.ctx, user.id)).filter((l) => l.reference.endsWith(id))).toHaveLength(1);
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(1);
    await expectLedgerConsistent(stack.app.ctx);
  });

  it('copes with pushes delivered newest first', async () => {
    const { cookie, id } = await startGeneration(stack, [{ kind: 'out_of_order_callbacks' }]);
    expect((await waitForStatus(stack.app.url, cookie, id)).status).toBe('success');
  });

  it('ignores a forged success push: only MiniMax’s own answer counts', async () => {
    // MiniMax keeps the task processing for the whole test: whatever the pushes say, its own answer is "processing".
    stack.minimax.configure({ stepMs: { processing: 120_000 } });
    try {
      const { user, id } = await startGeneration(stack);
      await waitUntil(async () => (await generationRow(stack.app.ctx, id)).minimax_job_id !== null, 10_000, 'submission');
      const job = (await generationRow(stack.app.ctx, id)).minimax_job_id as string;
      await stack.minimax.waitForTask(job, ['Processing']);
      for (const status of ['success', 'failed']) {
        const forged = await postCallback(stack.app.url, { task_id: job, status, file_id: '999999', base_resp: { status_code: 0 } });
        expect(forged.status).toBe(200);
        expect(await forged.json()).toEqual({ status: 'success' });
      }
      // A push only makes the generation due: wait for the worker's own query that followed it.
      const pushedAt = (await generationRow(stack.app.ctx, id)).last_callback_at as number;
      await waitUntil(async () => (((await generationRow(stack.app.ctx, id)).last_polled_at as number | null) ?? 0) >= pushedAt, 10_000, 'the confirming query');
      expect(await generationRow(stack.app.ctx, id)).toMatchObject({
        status: 'processing',
        step: 'poll',
        minimax_status: 'processing',
        minimax_file_id: null,
        refunded: 0,
        charged: 0,
      });
      expect((await ledgerOf(stack.app.ctx, user.id)).filter((l) => l.reference.endsWith(id)).map((l) => l.kind)).toEqual(['hold']);
    } finally {
      stack.minimax.configure({ stepMs: { processing: 30 } });
    }
  });

  it('answers a push for an unknown task and changes nothing', async () => {
    const before = await eventCount(stack);
    const res = await postCallback(stack.app.url, { task_id: '123456789012345', status: 'success', file_id: '1' });
    expect(res.status).toBe(200);
    expect(await eventCount(stack)).toBe(before);
  });

  it('refuses junk bodies, counting them without paging the operator (anyone can post there)', async () => {
    const rejected = async () =>
      (await stack.app.ctx.metrics.registry.getSingleMetric('beem_minimax_callbacks_rejected_total')!.get()).values[0]?.value ?? 0;
    const before = await rejected();
    for (const body of ['{not json', '{"bogus":1}', '[]', '']) {
      const res = await postCallback(stack.app.url, body);
      expect(res.status, body).toBe(400);
    }
    expect(await rejected()).toBe(before + 4);
    await stack.app.ctx.notifier.flush();
    expect(await stack.app.ctx.db.value(`SELECT COUNT(*) FROM operator_alerts WHERE stage = 'MINIMAX_CALLBACK'`)).toBe(0);
  });
});

describe('a callback that never arrives', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startPipelineStack({ callbacks: true, env: { POLL_INTERVAL_MS: '100' }, minimax: { render: { ffmpeg: null } } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('is covered by polling: the generation completes anyway', async () => {
    const { user, cookie, id } = await startGeneration(stack, [{ kind: 'no_callback' }]);
    expect((await waitForStatus(stack.app.url, cookie, id)).status).toBe('success');
    const row = await generationRow(stack.app.ctx, id);
    expect(row.last_callback_at).toBeNull();
    expect(row.last_polled_at).toEqual(expect.any(Number));
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(1);
    await expectLedgerConsistent(stack.app.ctx);
  });
});

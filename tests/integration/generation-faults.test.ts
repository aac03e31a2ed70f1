import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
} from '../helpers/generation.ts';
import { listGenerationEvents } from '../../src/lib/generation/events.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import type { MinimaxFaultInput } from '../../sandbox/minimax/faults.ts';

/**
 * Every fault the MiniMax emulator can inject, through the real worker: the generation ends
 * in the right state, a failure refunds the hold exactly once, a success charges it once.
 */
describe('generation pipeline under MiniMax faults', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  beforeAll(async () => {
    // The bundled sample clip instead of an ffmpeg render per task: these tests are about states.
    stack = await startPipelineStack({ env: { QUEUE_MAX_ATTEMPTS: '3', MINIMAX_REQUEST_TIMEOUT_MS: '300' }, minimax: { render: { ffmpeg: null } } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  async function run(faults: MinimaxFaultInput[], mode: 'prompt' | 'template' = 'prompt') {
    const { app } = stack;
    stack.minimax.reset();
    stack.minimax.configure({ stepMs: { preparing: 20, queueing: 20, processing: 30 } });
    if (faults.length > 0) stack.minimax.injectFault(faults);
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 2 });
    await uploadPhoto(app.url, cookie);
    const res = await generate(app.url, cookie, { prompt: 'Кроссовки на витрине, панорама влево', duration: 6, mode });
    expect(res.status).toBe(200);
    const { generationId } = (await res.json()) as { generationId: string };
    const status = await waitForStatus(app.url, cookie, generationId);
    const ledger = (await ledgerOf(app.ctx, user.id)).filter((l) => l.reference.endsWith(generationId));
    // Operator alerts of the pipeline (the prompt engine's own fallbacks alert too: not counted here).
    await app.ctx.notifier.flush();
    const alerts = (await app.ctx.db.all<{ stage: string }>('SELECT stage FROM operator_alerts WHERE generationId = ? ORDER BY id', [generationId]))
      .map((r) => r.stage)
      .filter((stage) => !stage.startsWith('GPT_') && stage !== 'TEMPLATE_ROUTER');
    return { status, balance: await balanceOf(app.ctx, user.id), ledger, row: await generationRow(app.ctx, generationId), id: generationId, alerts };
  }

  async function expectRefundedOnce(result: Awaited<ReturnType<typeof run>>) {
    expect(result.status).toMatchObject({ status: 'failed', refunded: true, charged: false });
    expect(result.balance).toBe(2);
    expect(result.ledger.map((l) => [l.kind, l.delta])).toEqual([
      ['hold', -1],
      ['refund', 1],
    ]);
    await expectLedgerConsistent(stack.app.ctx);
  }

  async function expectChargedOnce(result: Awaited<ReturnType<typeof run>>) {
    expect(result.status).toMatchObject({ status: 'success', refunded: false, charged: true });
    expect(result.balance).toBe(1);
    expect(result.ledger.map((l) => [l.kind, l.delta])).toEqual([['hold', -1]]);
    await expectLedgerConsistent(stack.app.ctx);
  }

  it.each([
    [1026, 'INPUT_SENSITIVE', /Фото или описание не прошли проверку нейросети/],
    [2013, 'INVALID_PARAMS', /Нейросеть не приняла фото/],
    [1008, 'PROVIDER_UNAVAILABLE', /временно недоступна/],
    [1004, 'PROVIDER_UNAVAILABLE', /временно недоступна/],
    [1042, 'PROMPT_CHARACTERS', /символов/],
  ])('create error %i fails at once, refunds once and alerts MINIMAX_CALL', async (code, reason, message) => {
    // The error would repeat: a retry could not turn into a success and hide itself.
    const result = await run([{ kind: 'error', on: 'create', code, count: 3 }]);
    await expectRefundedOnce(result);
    expect(result.status.errorReason).toBe(reason);
    expect(result.status.error).toMatch(message);
    expect(result.status.refunded).toBe(true);
    expect(result.row.error_code).toBe(String(code));
    // One claim to prepare, one to submit, and no retry: the error is final at once.
    expect(result.row).toMatchObject({ attempt: 2, retry_count: 0 });
    expect((await listGenerationEvents(stack.app.ctx.db, result.id)).filter((e) => e.kind === 'retry')).toEqual([]);
    expect(result.alerts).toEqual(['MINIMAX_CALL']);
  });

  it.each([
    [{ kind: 'error', on: 'create', code: 1002, count: 2 }],
    [{ kind: 'error', on: 'create', code: 1000 }],
    [{ kind: 'error', on: 'create', code: 2045 }],
    [{ kind: 'http_error', on: 'create', status: 503 }],
    [{ kind: 'http_error', on: 'create', status: 429 }],
    [{ kind: 'hang', on: 'create', ms: 1000 }],
    [{ kind: 'error', on: 'query', code: 1001, count: 2 }],
    [{ kind: 'http_error', on: 'query', status: 502 }],
    [{ kind: 'error', on: 'retrieve', code: 1000 }],
    [{ kind: 'hang', on: 'retrieve', ms: 1000 }],
    [{ kind: 'http_error', on: 'download', status: 500 }],
    [{ kind: 'expired_download_url' }],
  ] as MinimaxFaultInput[][])('transient fault %j is retried and the video still arrives, charged once', async (fault) => {
    const result = await run([fault]);
    await expectChargedOnce(result);
    expect(result.alerts).toEqual([]);
    expect((await listGenerationEvents(stack.app.ctx.db, result.id)).some((e) => e.kind === 'retry')).toBe(true);
  });

  it('gives up after QUEUE_MAX_ATTEMPTS retryable errors, refunds once and says MiniMax is busy', async () => {
    const result = await run([{ kind: 'error', on: 'create', code: 1002, count: 10 }]);
    await expectRefundedOnce(result);
    expect(result.status.errorReason).toBe('PROVIDER_BUSY');
    expect(result.row.retry_count).toBe(2);
    expect(result.alerts).toEqual(['MINIMAX_CALL']);
  });

  it.each([
    [1027, 'OUTPUT_SENSITIVE'],
    [1026, 'INPUT_SENSITIVE'],
  ])('a task that MiniMax fails with %i is refunded once and alerted as MINIMAX_GENERATION', async (code, reason) => {
    const result = await run([{ kind: 'task_fail', code }]);
    await expectRefundedOnce(result);
    expect(result.status.errorReason).toBe(reason);
    expect(result.alerts).toEqual(['MINIMAX_GENERATION']);
  });

  it('a template task that fails is refunded once', async () => {
    const result = await run([{ kind: 'task_fail', code: 1027 }], 'template');
    await expectRefundedOnce(result);
  });

  it('a template task survives a transient template query error', async () => {
    const result = await run([{ kind: 'error', on: 'template_query', code: 1013 }], 'template');
    await expectChargedOnce(result);
  });

  it('a failing download is retried, then failed with VIDEO_DOWNLOAD and refunded', async () => {
    const result = await run([{ kind: 'http_error', on: 'download', status: 500, count: 10 }]);
    await expectRefundedOnce(result);
    expect(result.status.errorReason).toBe('DOWNLOAD_FAILED');
    expect(result.alerts).toEqual(['VIDEO_DOWNLOAD']);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { imageDataUrl, startMinimax, startReceiver, type CallbackReceiver, type MinimaxHarness } from '../../../sandbox/minimax/test-support.ts';

let h: MinimaxHarness;
let receiver: CallbackReceiver;
let photo: string;

beforeAll(async () => {
  h = await startMinimax({ challengeTimeoutMs: 200 });
  receiver = await startReceiver();
  photo = await imageDataUrl(640, 360);
});
afterAll(async () => {
  await h.close();
  await receiver.close();
});
beforeEach(() => {
  h.minimax.reset();
  receiver.received.length = 0;
  receiver.mode = 'echo';
});

const body = (extra: Record<string, unknown> = {}) => ({
  model: 'MiniMax-Hailuo-2.3',
  prompt: '[Truck left] кроссовки на бетоне',
  first_frame_image: photo,
  callback_url: receiver.url,
  ...extra,
});

async function runTask(extra: Record<string, unknown> = {}) {
  const { json } = await h.call('/v1/video_generation', { body: body(extra) });
  expect(json.base_resp.status_code).toBe(0);
  await h.minimax.waitForTask(json.task_id);
  await h.minimax.callbacksSettled(json.task_id);
  return json.task_id as string;
}

const pushes = () => receiver.received.filter((b) => !('challenge' in b));

describe('challenge handshake', () => {
  it('verifies the callback URL before accepting the task, then pushes every state change', async () => {
    const taskId = await runTask();
    expect(receiver.received[0]).toEqual({ challenge: expect.any(String) });
    expect(pushes().map((p) => p.status)).toEqual(['processing', 'processing', 'success']);
    const last = pushes().at(-1)!;
    expect(last).toEqual({ task_id: taskId, status: 'success', file_id: h.minimax.task(taskId)!.fileId!.toString(), base_resp: { status_code: 0, status_msg: 'success' } });
    expect(last).not.toHaveProperty('video_width');
    expect(h.minimax.task(taskId)!.challenge).toMatchObject({ passed: true, httpStatus: 200 });
    expect(h.minimax.task(taskId)!.callbacks.every((d) => d.httpStatus === 200)).toBe(true);
  });

  it('refuses creation with 2013 "fail to check callback url" when the echo is wrong or late', async () => {
    for (const mode of ['wrong', 'slow'] as const) {
      receiver.mode = mode;
      const { json } = await h.call('/v1/video_generation', { body: body() });
      expect(json.base_resp).toEqual({ status_code: 2013, status_msg: 'fail to check callback url' });
    }
    const unreachable = await h.call('/v1/video_generation', { body: body({ callback_url: 'http://127.0.0.1:9/minimax_callback' }) });
    expect(unreachable.json.base_resp.status_code).toBe(2013);
    expect(h.minimax.tasks()).toHaveLength(0);
  });

  it('can instead accept the task and never call back (switch)', async () => {
    h.minimax.configure({ onFailedChallenge: 'accept_silently' });
    receiver.mode = 'wrong';
    const taskId = await runTask();
    expect(h.minimax.task(taskId)).toMatchObject({ status: 'Success', callbackMode: 'none', challenge: { passed: false } });
    expect(pushes()).toHaveLength(0);
  });
});

describe('status pushes', () => {
  it('reports a failed task as "failed" with the error code', async () => {
    h.minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const taskId = await runTask();
    expect(pushes().at(-1)).toEqual({ task_id: taskId, status: 'failed', base_resp: { status_code: 1027, status_msg: 'output new_sensitive' } });
  });

  it('sends the query spelling when switched to capitalised statuses', async () => {
    h.minimax.configure({ callbackStatusCase: 'query' });
    await runTask();
    expect(pushes().map((p) => p.status)).toEqual(['Queueing', 'Processing', 'Success']);
  });

  it('sends a single processing push when one push per internal state is switched off', async () => {
    h.minimax.configure({ pushEachInternalState: false });
    await runTask();
    expect(pushes().map((p) => p.status)).toEqual(['processing', 'success']);
  });

  it('carries video_url for template tasks', async () => {
    const { json } = await h.call('/v1/video_template_generation', {
      body: { template_id: '394220989629177861', media_inputs: [{ value: photo }], callback_url: receiver.url },
    });
    await h.minimax.waitForTask(json.task_id);
    await h.minimax.callbacksSettled(json.task_id);
    expect(pushes().map((p) => p.status)).toEqual(['processing', 'success']);
    expect(pushes().at(-1)).toMatchObject({ task_id: json.task_id, video_url: expect.stringContaining('/minimax/files/') });
  });
});

describe('callback faults', () => {
  it('no_callback: handshake only, then silence', async () => {
    h.minimax.injectFault({ kind: 'no_callback' });
    await runTask();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toHaveProperty('challenge');
  });

  it('duplicate_callbacks: every push arrives the given number of times', async () => {
    h.minimax.injectFault({ kind: 'duplicate_callbacks', copies: 3 });
    await runTask();
    expect(pushes().map((p) => p.status)).toEqual(['processing', 'processing', 'processing', 'processing', 'processing', 'processing', 'success', 'success', 'success']);
  });

  it('out_of_order_callbacks: the final push arrives before the older ones', async () => {
    h.minimax.injectFault({ kind: 'out_of_order_callbacks' });
    await runTask();
    expect(pushes().map((p) => p.status)).toEqual(['success', 'processing', 'processing']);
  });

  it('records pushes the receiver does not take, without retrying them', async () => {
    h.minimax.configure({ stepMs: { preparing: 300 } }); // the receiver is gone before the first push
    const gone = await startReceiver();
    const { json } = await h.call('/v1/video_generation', { body: body({ callback_url: gone.url }) });
    expect(json.base_resp.status_code).toBe(0);
    await gone.close();
    await h.minimax.waitForTask(json.task_id);
    const deliveries = await h.minimax.callbacksSettled(json.task_id);
    expect(deliveries).toHaveLength(3);
    expect(deliveries.every((d) => d.httpStatus === null && d.error !== null)).toBe(true);
  });
});

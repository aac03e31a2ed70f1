import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { imageDataUrl, isMp4, startMinimax, type MinimaxHarness } from '../../../sandbox/minimax/test-support.ts';

let h: MinimaxHarness;
let photo: string;

beforeAll(async () => {
  h = await startMinimax();
  photo = await imageDataUrl(640, 480);
});
afterAll(() => h.close());
beforeEach(() => h.minimax.reset());

const body = () => ({ model: 'MiniMax-Hailuo-2.3', prompt: '[Zoom in] часы', first_frame_image: photo });

async function finishedTask(): Promise<{ taskId: string; fileId: string }> {
  const { json } = await h.call('/v1/video_generation', { body: body() });
  const done = await h.minimax.waitForTask(json.task_id);
  return { taskId: json.task_id, fileId: String(done.fileId) };
}

describe('faults on calls', () => {
  it.each([1002, 1008, 1026, 2013, 1000, 1013, 1033, 2045, 2049])('create answers base_resp %i as HTTP 200 for the next call only', async (code) => {
    h.minimax.injectFault({ kind: 'error', on: 'create', code });
    const failed = await h.call('/v1/video_generation', { body: body() });
    expect(failed.status).toBe(200);
    expect(failed.json).toMatchObject({ task_id: '', base_resp: { status_code: code } });
    expect(failed.json.base_resp.status_msg).not.toBe('');
    const next = await h.call('/v1/video_generation', { body: body() });
    expect(next.json.base_resp.status_code).toBe(0);
  });

  it('counts: a fault with count 2 hits two calls', async () => {
    h.minimax.injectFault({ kind: 'error', on: 'create', code: 1002, count: 2 });
    const codes = [];
    for (let i = 0; i < 3; i += 1) codes.push((await h.call('/v1/video_generation', { body: body() })).json.base_resp.status_code);
    expect(codes).toEqual([1002, 1002, 0]);
  });

  it('http_error: 500 with a gateway page, 429 with Retry-After, on create and query', async () => {
    h.minimax.injectFault([
      { kind: 'http_error', on: 'create', status: 500 },
      { kind: 'http_error', on: 'query', status: 429 },
    ]);
    const create = await h.call('/v1/video_generation', { body: body() });
    expect(create.status).toBe(500);
    expect(create.headers.get('content-type')).toContain('text/html');
    const { taskId } = await finishedTask();
    const query = await h.call(`/v1/query/video_generation?task_id=${taskId}`);
    expect(query.status).toBe(429);
    expect(query.headers.get('retry-after')).toBe('1');
    expect(query.json.base_resp.status_code).toBe(1002);
    expect((await h.call(`/v1/query/video_generation?task_id=${taskId}`)).json.status).toBe('Success');
  });

  it('hang on create: the client times out and no task is made', async () => {
    h.minimax.injectFault({ kind: 'hang', on: 'create', ms: 30_000 });
    const started = Date.now();
    await expect(
      fetch(`${h.base}/v1/video_generation`, {
        method: 'POST',
        headers: { authorization: 'Bearer sandbox-minimax-key', 'content-type': 'application/json' },
        body: JSON.stringify(body()),
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(15_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.minimax.tasks()).toHaveLength(0);
  });

  it('hang on create with createTask: the task exists although the client never heard back', async () => {
    h.minimax.injectFault({ kind: 'hang', on: 'create', ms: 5_000, createTask: true });
    await expect(
      fetch(`${h.base}/v1/video_generation`, {
        method: 'POST',
        headers: { authorization: 'Bearer sandbox-minimax-key', 'content-type': 'application/json' },
        body: JSON.stringify(body()),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    expect(h.minimax.tasks()).toHaveLength(1);
  });

  it('hang on query delays the answer', async () => {
    const { taskId } = await finishedTask();
    h.minimax.injectFault({ kind: 'hang', on: 'query', ms: 200 });
    const started = Date.now();
    const answer = await h.call(`/v1/query/video_generation?task_id=${taskId}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(answer.json.status).toBe('Success');
  });

  it('retrieve errors answer base_resp codes', async () => {
    const { fileId } = await finishedTask();
    h.minimax.injectFault({ kind: 'error', on: 'retrieve', code: 1001 });
    expect((await h.call(`/v1/files/retrieve?file_id=${fileId}`)).json).toEqual({ base_resp: { status_code: 1001, status_msg: 'request timeout' } });
    expect((await h.call(`/v1/files/retrieve?file_id=${fileId}`)).json.base_resp.status_code).toBe(0);
  });

  it('query errors answer base_resp codes', async () => {
    const { taskId } = await finishedTask();
    h.minimax.injectFault({ kind: 'error', on: 'query', code: 1002 });
    expect((await h.call(`/v1/query/video_generation?task_id=${taskId}`)).json.base_resp.status_code).toBe(1002);
  });
});

describe('faults on tasks and downloads', () => {
  it('task_fail: the task ends Fail with the code in base_resp and no file', async () => {
    h.minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const { json } = await h.call('/v1/video_generation', { body: body() });
    const done = await h.minimax.waitForTask(json.task_id);
    expect(done.history.map((s) => s.status)).toEqual(['Preparing', 'Queueing', 'Processing', 'Fail']);
    const answer = (await h.call(`/v1/query/video_generation?task_id=${json.task_id}`)).json;
    expect(answer).toEqual({ task_id: json.task_id, status: 'Fail', base_resp: { status_code: 1027, status_msg: 'output new_sensitive' } });
  });

  it('task_fail can be reported as base_resp 0 with an error_message (switch)', async () => {
    h.minimax.configure({ failureReport: 'error_message' });
    h.minimax.injectFault({ kind: 'task_fail', code: 1026, message: 'input image flagged' });
    const { json } = await h.call('/v1/video_generation', { body: body() });
    await h.minimax.waitForTask(json.task_id);
    const answer = (await h.call(`/v1/query/video_generation?task_id=${json.task_id}`)).json;
    expect(answer).toMatchObject({ status: 'Fail', error_message: 'input image flagged', base_resp: { status_code: 0 } });
  });

  it('expired_download_url: the next retrieve hands out a link that already answers 403', async () => {
    const { fileId } = await finishedTask();
    h.minimax.injectFault({ kind: 'expired_download_url' });
    const stale = (await h.call(`/v1/files/retrieve?file_id=${fileId}`)).json.file.download_url;
    expect((await fetch(stale)).status).toBe(403);
    const fresh = (await h.call(`/v1/files/retrieve?file_id=${fileId}`)).json.file.download_url;
    expect((await fetch(fresh)).status).toBe(200);
  });

  it('slow_download: the bytes trickle in at the given rate', async () => {
    const { fileId } = await finishedTask();
    const url = (await h.call(`/v1/files/retrieve?file_id=${fileId}`)).json.file.download_url;
    const size = (await (await fetch(url)).arrayBuffer()).byteLength;
    const bytesPerSecond = Math.ceil(size / 0.4); // ~0.4 s in all
    h.minimax.injectFault({ kind: 'slow_download', bytesPerSecond, firstByteDelayMs: 100 });
    const started = Date.now();
    const response = await fetch(url);
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(bytes.byteLength).toBe(size);
    expect(isMp4(bytes)).toBe(true);
  });

  it('http_error on download: the CDN answers 502 once', async () => {
    const { fileId } = await finishedTask();
    const url = (await h.call(`/v1/files/retrieve?file_id=${fileId}`)).json.file.download_url;
    h.minimax.injectFault({ kind: 'http_error', on: 'download', status: 502 });
    expect((await fetch(url)).status).toBe(502);
    expect((await fetch(url)).status).toBe(200);
  });

  it('faults can be injected over HTTP as well', async () => {
    const response = await fetch(`${h.sandbox.url}/_sandbox/minimax/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ kind: 'error', code: 1033 }, { kind: 'task_fail' }]),
    });
    expect(response.status).toBe(200);
    expect(h.minimax.state().pendingFaults.map((f) => f.kind)).toEqual(['error', 'task_fail']);
    expect((await h.call('/v1/video_generation', { body: body() })).json.base_resp.status_code).toBe(1033);
  });
});

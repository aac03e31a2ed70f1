import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { imageDataUrl, isMp4, startMinimax, type MinimaxHarness } from '../../../sandbox/minimax/test-support.ts';

let h: MinimaxHarness;
let photo: string;
let clockOffset = 0;

beforeAll(async () => {
  h = await startMinimax({ apiKeys: ['sandbox-minimax-key', 'other-account-key'], groupIds: { 'sandbox-minimax-key': '1900000000' } });
  photo = await imageDataUrl(800, 600);
});
afterAll(() => h.close());
beforeEach(() => {
  h.minimax.reset();
  clockOffset = 0;
});

const video = (extra: Record<string, unknown> = {}) => ({
  model: 'MiniMax-Hailuo-2.3',
  prompt: 'Флакон духов на мраморе [Push in], мягкий свет',
  first_frame_image: photo,
  duration: 6,
  resolution: '768P',
  ...extra,
});

async function createTask(extra: Record<string, unknown> = {}, key?: string): Promise<string> {
  const { json } = await h.call('/v1/video_generation', { body: video(extra), key });
  expect(json.base_resp).toEqual({ status_code: 0, status_msg: 'success' });
  return json.task_id as string;
}

describe('authentication', () => {
  it('answers 1004 without a key and 2049 for an unknown key, both as HTTP 200', async () => {
    const missing = await h.call('/v1/video_generation', { body: video(), key: null });
    expect(missing.status).toBe(200);
    expect(missing.json.base_resp.status_code).toBe(1004);
    const wrong = await h.call('/v1/query/video_generation?task_id=1', { key: 'not-a-key' });
    expect(wrong.status).toBe(200);
    expect(wrong.json.base_resp).toEqual({ status_code: 2049, status_msg: 'invalid api key' });
    expect(h.minimax.tasks()).toHaveLength(0);
  });

  it('carries a Trace-Id header on every answer', async () => {
    const { headers } = await h.call('/v1/query/video_generation?task_id=1');
    expect(headers.get('trace-id')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('create, query, retrieve, download', () => {
  it('walks Preparing → Queueing → Processing → Success and hands out a real MP4', async () => {
    const taskId = await createTask();
    expect(taskId).toMatch(/^\d{15,18}$/);

    const seen = new Set<string>();
    let answer: any;
    for (let i = 0; i < 200; i += 1) {
      answer = (await h.call(`/v1/query/video_generation?task_id=${taskId}`)).json;
      seen.add(answer.status);
      if (answer.status === 'Success' || answer.status === 'Fail') break;
      if (answer.status !== 'Success') expect(answer).not.toHaveProperty('file_id');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(answer).toMatchObject({ task_id: taskId, status: 'Success', base_resp: { status_code: 0 } });
    expect(typeof answer.file_id).toBe('string');
    expect(answer.video_width).toBe(1024); // 4:3 photo at 768P
    expect(answer.video_height).toBe(768);
    const history = h.minimax.task(taskId)!.history.map((s) => s.status);
    expect(history).toEqual(['Preparing', 'Queueing', 'Processing', 'Success']);
    expect(seen.has('Success')).toBe(true);

    const retrieved = await h.call(`/v1/files/retrieve?file_id=${answer.file_id}&GroupId=1900000000`);
    expect(retrieved.json.base_resp.status_code).toBe(0);
    const file = retrieved.json.file;
    expect(file).toMatchObject({ file_id: Number(answer.file_id), filename: 'output.mp4', purpose: 'video_generation', bytes: 0 });
    expect(typeof file.file_id).toBe('number');
    expect(Math.abs(file.created_at - Date.now() / 1000)).toBeLessThan(60);
    // The CDN is https (the test CA is trusted through NODE_EXTRA_CA_CERTS), on the sandbox's port.
    expect(file.download_url).toMatch(new RegExp(`^${h.base.replace(/^http:/, 'https:')}/files/[\\w-]+/output\\.mp4$`));

    const download = await fetch(file.download_url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('video/mp4');
    const bytes = new Uint8Array(await download.arrayBuffer());
    expect(isMp4(bytes)).toBe(true);

    const ranged = await fetch(file.download_url, { headers: { range: 'bytes=0-7' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');

    const content = await fetch(`${h.base}/v1/files/retrieve_content?file_id=${answer.file_id}`, {
      headers: { authorization: 'Bearer sandbox-minimax-key' },
    });
    expect(content.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.compare(Buffer.from(await content.arrayBuffer()), Buffer.from(bytes))).toBe(0);
    expect(h.minimax.state().requestCounts).toMatchObject({ create: 1, retrieve: 1, retrieve_content: 1, download: 2 });
    expect(h.minimax.state().secureDownloads).toBe(2);
  });

  it('expires the download URL after its TTL with a CDN-like 403, and retrieve hands out a fresh one', async () => {
    h.minimax.configure({ downloadUrlTtlMs: 60 * 60 * 1000, now: () => Date.now() + clockOffset });
    const taskId = await createTask();
    const done = await h.minimax.waitForTask(taskId);
    const url = (await h.call(`/v1/files/retrieve?file_id=${done.fileId}`)).json.file.download_url;
    expect((await fetch(url)).status).toBe(200);
    clockOffset = 60 * 60 * 1000 + 1;
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('AccessDenied');
    const fresh = (await h.call(`/v1/files/retrieve?file_id=${done.fileId}`)).json.file.download_url;
    expect(fresh).not.toBe(url);
    expect((await fetch(fresh)).status).toBe(200);
    expect((await fetch(`${h.base}/files/unknown-token/output.mp4`)).status).toBe(404);
  });

  it('pads finished videos to padVideoToBytes for benchmarks, keeping the MP4 header first', async () => {
    h.minimax.configure({ padVideoToBytes: 3 * 1024 * 1024 });
    const taskId = await createTask();
    const done = await h.minimax.waitForTask(taskId);
    const url = (await h.call(`/v1/files/retrieve?file_id=${done.fileId}`)).json.file.download_url;
    const head = await fetch(url, { headers: { range: 'bytes=0-7' } });
    expect(head.headers.get('content-range')).toBe(`bytes 0-7/${3 * 1024 * 1024}`);
    expect(Buffer.from(await head.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('shows tasks and files only to the key that created them', async () => {
    const taskId = await createTask();
    const done = await h.minimax.waitForTask(taskId);
    const foreign = await h.call(`/v1/query/video_generation?task_id=${taskId}`, { key: 'other-account-key' });
    expect(foreign.json).toEqual({ task_id: taskId, base_resp: { status_code: 2013, status_msg: 'invalid params, task not found' } });
    const foreignFile = await h.call(`/v1/files/retrieve?file_id=${done.fileId}`, { key: 'other-account-key' });
    expect(foreignFile.json.base_resp.status_code).toBe(2013);
    const unknown = await h.call('/v1/query/video_generation?task_id=123456789012345');
    expect(unknown.json.base_resp.status_code).toBe(2013);
    expect(unknown.json).not.toHaveProperty('status');
  });

  it('answers 1004 "token not match group" for a foreign GroupId', async () => {
    const { json } = await h.call('/v1/files/retrieve?file_id=1&GroupId=42');
    expect(json.base_resp).toEqual({ status_code: 1004, status_msg: 'token not match group' });
  });

  it('refuses invalid parameters with 2013 and no task', async () => {
    const cases = [
      video({ resolution: '1080P', duration: 10 }),
      video({ prompt: 'x'.repeat(2001) }),
      { model: 'MiniMax-Hailuo-2.3-Fast', prompt: 'text only' },
      video({ first_frame_image: await imageDataUrl(300, 600) }),
      video({ first_frame_image: await imageDataUrl(1200, 400) }),
      video({ first_frame_image: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' }),
      video({ first_frame_image: 'data:image/png;base64,bm90IGFuIGltYWdl' }),
    ];
    for (const body of cases) {
      const { status, json } = await h.call('/v1/video_generation', { body });
      expect(status).toBe(200);
      expect(json.base_resp.status_code).toBe(2013);
      expect(json.base_resp.status_msg).toMatch(/^invalid params/);
      expect(json.task_id).toBe('');
    }
    const broken = await fetch(`${h.base}/v1/video_generation`, {
      method: 'POST',
      headers: { authorization: 'Bearer sandbox-minimax-key', 'content-type': 'application/json' },
      body: '{not json',
    });
    expect((await broken.json()).base_resp.status_code).toBe(2013);
    expect(h.minimax.tasks()).toHaveLength(0);
  });

  it('accepts PNG and WebP first frames and follows a portrait aspect ratio', async () => {
    const png = await createTask({ first_frame_image: await imageDataUrl(600, 1067, 'png'), resolution: '1080P' });
    const webp = await createTask({ first_frame_image: await imageDataUrl(640, 640, 'webp') });
    const [a, b] = await Promise.all([h.minimax.waitForTask(png), h.minimax.waitForTask(webp)]);
    expect([a.videoWidth, a.videoHeight]).toEqual([1080, 1920]);
    expect([b.videoWidth, b.videoHeight]).toEqual([768, 768]);
  });

  it('reads the first frame from an http URL, and refuses one that cannot be downloaded', async () => {
    const bytes = Buffer.from(photo.split(',')[1]!, 'base64');
    const http = await import('node:http');
    const server = http.createServer((req, res) =>
      req.url === '/photo.jpg' ? res.writeHead(200, { 'content-type': 'image/jpeg' }).end(bytes) : res.writeHead(404).end(),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const taskId = await createTask({ first_frame_image: `http://127.0.0.1:${port}/photo.jpg` });
      expect((await h.minimax.waitForTask(taskId)).status).toBe('Success');
      const missing = await h.call('/v1/video_generation', { body: video({ first_frame_image: `http://127.0.0.1:${port}/x` }) });
      expect(missing.json.base_resp).toMatchObject({ status_code: 2013, status_msg: expect.stringContaining('HTTP 404') });
    } finally {
      server.close();
    }
  });

  it('limits create calls per minute with 1002 when an RPM limit is set', async () => {
    h.minimax.configure({ rpmLimit: 2, now: () => Date.now() + clockOffset });
    await createTask();
    await createTask();
    const third = await h.call('/v1/video_generation', { body: video() });
    expect(third.json.base_resp).toEqual({ status_code: 1002, status_msg: 'rate limit exceeded(RPM)' });
    clockOffset = 61_000;
    await createTask();
  });

  it('answers 1008 once the simulated balance cannot pay, and charges only successful videos', async () => {
    h.minimax.configure({ balanceUsd: 0.5 });
    h.minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const failed = await createTask();
    await h.minimax.waitForTask(failed);
    const ok = await createTask();
    await h.minimax.waitForTask(ok);
    expect(h.minimax.state().spentUsd).toBeCloseTo(0.28);
    const refused = await h.call('/v1/video_generation', { body: video() });
    expect(refused.json.base_resp).toEqual({ status_code: 1008, status_msg: 'insufficient balance' });
  });

  it('runs text-to-video with a 16:9 output', async () => {
    const taskId = await createTask({ first_frame_image: undefined, prompt: 'Кофейная чашка на столе [Pan right]' });
    const done = await h.minimax.waitForTask(taskId);
    expect(done).toMatchObject({ status: 'Success', mode: 'T2V', motion: 'pan_right', videoWidth: 1366, videoHeight: 768 });
  });
});

describe('template tasks', () => {
  it('walk Preparing → Processing → Success without Queueing and answer a video_url', async () => {
    const { json } = await h.call('/v1/video_template_generation', {
      body: { template_id: '393769180141805569', media_inputs: [{ value: photo }], text_inputs: [{ value: 'Lion' }] },
    });
    expect(json.base_resp.status_code).toBe(0);
    expect(json.task_id).toMatch(/^\d{18}$/);
    const done = await h.minimax.waitForTask(json.task_id);
    expect(done.history.map((s) => s.status)).toEqual(['Preparing', 'Processing', 'Success']);
    const answer = (await h.call(`/v1/query/video_template_generation?task_id=${json.task_id}`)).json;
    expect(answer).toMatchObject({ task_id: json.task_id, status: 'Success', base_resp: { status_code: 0 } });
    expect(answer).not.toHaveProperty('file_id');
    const download = await fetch(answer.video_url);
    expect(isMp4(new Uint8Array(await download.arrayBuffer()))).toBe(true);
    // The video API does not know template task ids.
    expect((await h.call(`/v1/query/video_generation?task_id=${json.task_id}`)).json.base_resp.status_code).toBe(2013);
  });

  it('keeps the template video_url valid for 9 hours', async () => {
    h.minimax.configure({ now: () => Date.now() + clockOffset });
    const { json } = await h.call('/v1/video_template_generation', { body: { template_id: '394875727173492739', text_inputs: [{ value: 'SALE' }] } });
    await h.minimax.waitForTask(json.task_id);
    const url = (await h.call(`/v1/query/video_template_generation?task_id=${json.task_id}`)).json.video_url;
    clockOffset = 8 * 60 * 60 * 1000;
    expect((await fetch(url)).status).toBe(200);
    clockOffset = 9 * 60 * 60 * 1000 + 1;
    expect((await fetch(url)).status).toBe(403);
  });

  it('refuses an unknown template or a missing input with 2013', async () => {
    const unknown = await h.call('/v1/video_template_generation', { body: { template_id: '1', media_inputs: [{ value: photo }] } });
    expect(unknown.json.base_resp.status_code).toBe(2013);
    const missing = await h.call('/v1/video_template_generation', { body: { template_id: '392747428568649728' } });
    expect(missing.json.base_resp.status_code).toBe(2013);
  });
});

describe('control API', () => {
  it('exposes tasks and counts through /_sandbox/minimax/state and forgets them on reset', async () => {
    const taskId = await createTask();
    await h.minimax.waitForTask(taskId);
    const state = (await (await fetch(`${h.sandbox.url}/_sandbox/minimax/state`)).json()) as any;
    expect(state.tasks[0]).toMatchObject({ id: taskId, model: 'MiniMax-Hailuo-2.3', status: 'Success', motion: 'push_in' });
    expect(state.tasks[0].video.bytes).toBeGreaterThan(1000);
    expect(state.files).toHaveLength(1);
    expect(state.requestCounts.create).toBe(1);
    await fetch(`${h.sandbox.url}/_sandbox/minimax/reset`, { method: 'POST' });
    expect(h.minimax.tasks()).toHaveLength(0);
  });

  it('answers 400 for a fault it does not understand', async () => {
    const response = await fetch(`${h.sandbox.url}/_sandbox/minimax/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'meteor' }),
    });
    expect(response.status).toBe(400);
    expect(() => h.minimax.injectFault({ kind: 'error', on: 'download', code: 1000 })).toThrow(/CDN/);
    expect(() => h.minimax.injectFault({ kind: 'http_error', status: 200 })).toThrow();
    expect(h.minimax.state().pendingFaults).toEqual([]);
  });
});

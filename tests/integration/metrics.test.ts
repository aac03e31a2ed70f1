import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { startApp } from '../helpers/app.ts';
import { generate, startPipelineStack, uploadPhoto, waitForStatus } from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';

/** The value of one exact series line (`name{labels}`), or null when absent. */
function series(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : null;
}

describe('/metrics after real traffic', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  let text = '';
  let generationId = '';

  beforeAll(async () => {
    stack = await startPipelineStack();
    const { app } = stack;
    const { cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    expect((await uploadPhoto(app.url, cookie)).status).toBe(200);
    // One create call fails with a retryable rate limit first: the worker retries it.
    stack.minimax.injectFault({ kind: 'error', on: 'create', code: 1002 });
    const created = (await (await generate(app.url, cookie, { prompt: 'Кружка на столе, камера приближается', duration: 6, mode: 'prompt' })).json()) as {
      generationId: string;
    };
    generationId = created.generationId;
    const done = await waitForStatus(app.url, cookie, generationId);
    expect(done.status).toBe('success');
    expect((await apiFetch(app.url, done.videoUrl!, { cookie })).status).toBe(200);
    expect((await apiFetch(app.url, '/api/status?generationId=gen_0000000000000_nothing', { cookie })).status).toBe(404);
    expect((await apiFetch(app.url, '/no/such/page')).status).toBe(404);
    expect((await apiFetch(app.url, '/api/payments/yookassa/create', { cookie, json: { plan: 'basic' } })).status).toBe(200);
    app.ctx.notifier.alert({ stage: 'TEST_ALERT', error: 'metrics test' });
    app.ctx.notifier.alert({ stage: 'TEST_ALERT', error: 'metrics test' });
    await app.ctx.notifier.flush();

    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('counts HTTP requests by route pattern and status, with latency histograms', () => {
    expect(series(text, 'beem_http_requests_total{method="GET",route="/api/status",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(series(text, 'beem_http_requests_total{method="GET",route="/api/status",status="404"}')).toBe(1);
    expect(series(text, 'beem_http_requests_total{method="POST",route="/api/generate",status="200"}')).toBe(1);
    expect(series(text, 'beem_http_requests_total{method="GET",route="/api/video/:id",status="200"}')).toBe(1);
    expect(series(text, 'beem_http_requests_total{method="GET",route="/[...unknown]",status="404"}')).toBe(1);
    const statusCount = series(text, 'beem_http_request_duration_seconds_count{method="GET",route="/api/status"}');
    expect(statusCount).toBeGreaterThanOrEqual(2);
    expect(series(text, 'beem_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/status"}')).toBe(statusCount);
    // Labels carry patterns only: no generation id, no unmatched raw path.
    expect(text).not.toContain(generationId);
    expect(text).not.toContain('/no/such/page');
  });

  it('reports the queue, the finished generation and MiniMax calls with their error codes', () => {
    expect(series(text, 'beem_generations{status="success"}')).toBe(1);
    expect(series(text, 'beem_generations{status="queued"}')).toBe(0);
    expect(series(text, 'beem_queue_length')).toBe(0);
    expect(series(text, 'beem_minimax_tasks_in_flight')).toBe(0);
    expect(series(text, 'beem_minimax_call_errors_total{operation="create",code="1002"}')).toBe(1);
    expect(series(text, 'beem_minimax_call_duration_seconds_count{operation="create",outcome="ok"}')).toBe(1);
    expect(series(text, 'beem_minimax_call_duration_seconds_count{operation="create",outcome="error"}')).toBe(1);
    expect(series(text, 'beem_minimax_call_duration_seconds_count{operation="query",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(series(text, 'beem_minimax_call_duration_seconds_count{operation="retrieve",outcome="ok"}')).toBe(1);
    expect(text).toMatch(/^beem_worker_active_steps\{lane="download"\} 0$/m);
  });

  it('reports payments by status, alerts sent and suppressed, and a consistent ledger', () => {
    expect(series(text, 'beem_payments{status="pending"}')).toBe(1);
    expect(series(text, 'beem_payments{status="succeeded"}')).toBe(0);
    expect(series(text, 'beem_operator_alerts_total{stage="TEST_ALERT",delivery="sent"}')).toBe(1);
    expect(series(text, 'beem_operator_alerts_total{stage="TEST_ALERT",delivery="suppressed"}')).toBe(1);
    expect(series(text, 'beem_ledger_mismatched_users')).toBe(0);
    expect(series(text, 'beem_ledger_checked_at_seconds')).toBeGreaterThan(1_700_000_000);
    expect(series(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('/metrics protection', () => {
  it('answers 403 without the token from an address not on the list, 200 with the token', async () => {
    const app = await startApp({ env: { METRICS_TOKEN: 'scrape-token-for-tests', METRICS_ALLOWED_IPS: '10.0.0.0/8' } });
    try {
      expect((await fetch(`${app.url}/metrics`)).status).toBe(403);
      expect((await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(403);
      const ok = await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer scrape-token-for-tests' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('beem_http_requests_total');
      expect((await fetch(`${app.url}/metrics`, { method: 'POST', headers: { authorization: 'Bearer scrape-token-for-tests', origin: app.url } })).status).toBe(405);
    } finally {
      await app.stop();
    }
  });

  it('lets the listed address in, but not through an untrusted proxy', async () => {
    const app = await startApp();
    try {
      expect((await fetch(`${app.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${app.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(403);
    } finally {
      await app.stop();
    }
  });

  it('behind a trusted proxy, judges the client address the proxy reports', async () => {
    const app = await startApp({ env: { TRUST_PROXY: 'true', METRICS_ALLOWED_IPS: '10.0.0.0/8' } });
    try {
      expect((await fetch(`${app.url}/metrics`, { headers: { 'x-real-ip': '10.1.2.3', 'x-forwarded-proto': 'https' } })).status).toBe(200);
      expect((await fetch(`${app.url}/metrics`, { headers: { 'x-real-ip': '203.0.113.9', 'x-forwarded-proto': 'https' } })).status).toBe(403);
    } finally {
      await app.stop();
    }
  });
});

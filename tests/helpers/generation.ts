import { expect } from 'vitest';
import { apiFetch } from './http.ts';
import { startStack, type TestStack } from './stack.ts';
import { FAST_MINIMAX, testPhoto } from '../../sandbox/minimax/test-support.ts';
import type { MinimaxEmulator, MinimaxOptionsInput } from '../../sandbox/minimax/emulator.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import type { AppContext } from '../../src/lib/context.ts';

/** Queue timings for tests: everything happens within tens of milliseconds. */
export const FAST_QUEUE_ENV: Record<string, string> = {
  POLL_INTERVAL_MS: '50',
  QUEUE_BACKOFF_BASE_MS: '10',
  QUEUE_BACKOFF_MAX_MS: '40',
  QUEUE_SWEEP_INTERVAL_MS: '100',
  QUEUE_LEASE_MS: '3000',
  QUEUE_MAX_ATTEMPTS: '4',
  MINIMAX_REQUEST_TIMEOUT_MS: '3000',
  VIDEO_DOWNLOAD_TIMEOUT_MS: '10000',
  ENHANCER_TIMEOUT_MS: '500',
  CAMERA_COMPILER_TIMEOUT_MS: '500',
  TEMPLATE_ROUTER_TIMEOUT_MS: '500',
  TELEGRAM_MIN_INTERVAL_MS: '0',
  // A status stream that goes quiet is noticed by the page within a few seconds.
  STATUS_STREAM_HEARTBEAT_MS: '1000',
};

export interface PipelineStackOptions {
  env?: Record<string, string>;
  minimax?: MinimaxOptionsInput;
  /** Send MINIMAX_CALLBACK_URL pointing at the app (MiniMax then verifies it with a challenge). */
  callbacks?: boolean;
}

/** Sandbox (fast MiniMax) + app with the worker running. */
export async function startPipelineStack(options: PipelineStackOptions = {}): Promise<TestStack & { minimax: MinimaxEmulator }> {
  const stack = await startStack({
    background: true,
    env: { ...FAST_QUEUE_ENV, ...options.env },
    envFromUrl: options.callbacks ? (url) => ({ MINIMAX_CALLBACK_URL: `${url}/minimax_callback` }) : undefined,
    sandbox: {
      minimax: {
        ...FAST_MINIMAX,
        ...options.minimax,
        stepMs: { ...FAST_MINIMAX.stepMs, ...options.minimax?.stepMs },
        render: { ...FAST_MINIMAX.render, ...options.minimax?.render },
      },
    },
  });
  return { ...stack, minimax: stack.sandbox.emulator<MinimaxEmulator>('minimax') };
}

export function photo(width = 640, height = 480, format: 'jpeg' | 'png' | 'webp' = 'jpeg'): Promise<Buffer> {
  return testPhoto(width, height, format);
}

export function imageForm(bytes: Uint8Array, name = 'product.jpg', type = 'image/jpeg'): FormData {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type }), name);
  return form;
}

export async function uploadPhoto(baseUrl: string, cookie: string, bytes?: Uint8Array): Promise<Response> {
  return apiFetch(baseUrl, '/api/upload-image', { cookie, body: imageForm(bytes ?? (await photo())) });
}

export interface GenerateBody {
  prompt?: unknown;
  duration?: unknown;
  mode?: unknown;
  format?: unknown;
  focus?: unknown;
}

export function generate(baseUrl: string, cookie: string, body: GenerateBody, headers: Record<string, string> = {}): Promise<Response> {
  return apiFetch(baseUrl, '/api/generate', { cookie, json: body, headers });
}

export interface StatusBody {
  id: string;
  status: string;
  step: string;
  error: string | null;
  errorReason: string | null;
  videoUrl: string | null;
  refunded: boolean;
  charged: boolean;
  [key: string]: unknown;
}

/** Polls /api/status until the generation reaches one of `statuses`. */
export async function waitForStatus(
  baseUrl: string,
  cookie: string,
  generationId: string,
  statuses: string[] = ['success', 'failed'],
  timeoutMs = 15_000,
): Promise<StatusBody> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusBody | null = null;
  while (Date.now() < deadline) {
    const res = await apiFetch(baseUrl, `/api/status?generationId=${generationId}`, { cookie });
    last = (await res.json()) as StatusBody;
    if (statuses.includes(last.status)) return last;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  throw new Error(`generation ${generationId} did not reach ${statuses.join('|')}; last: ${JSON.stringify(last)}`);
}

/** Polls `/api/status` until the video's poster (taken after delivery) is the one reported. */
export async function waitForPoster(baseUrl: string, cookie: string, generationId: string, posterUrl: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusBody | null = null;
  while (Date.now() < deadline) {
    last = (await (await apiFetch(baseUrl, `/api/status?generationId=${generationId}`, { cookie })).json()) as StatusBody;
    if (last.posterUrl === posterUrl) return;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  throw new Error(`generation ${generationId} did not report poster ${posterUrl}; last: ${JSON.stringify(last)}`);
}

/** Polls the database until `check` passes (for states no API shows). */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function balanceOf(ctx: AppContext, userId: string): Promise<number> {
  return (await ctx.db.value<number>('SELECT generation_balance FROM users WHERE id = ?', [userId])) as number;
}

export async function ledgerOf(ctx: AppContext, userId: string): Promise<Array<{ kind: string; delta: number; reference: string }>> {
  return ctx.db.all<{ kind: string; delta: number; reference: string }>(
    'SELECT kind, delta, reference FROM credit_ledger WHERE userId = ? ORDER BY id',
    [userId],
  );
}

export async function generationRow(ctx: AppContext, id: string): Promise<Record<string, unknown>> {
  return (await ctx.db.get<Record<string, unknown>>('SELECT * FROM generations WHERE id = ?', [id])) as Record<string, unknown>;
}

export async function expectLedgerConsistent(ctx: AppContext): Promise<void> {
  expect(await findLedgerMismatches(ctx.db)).toEqual([]);
}

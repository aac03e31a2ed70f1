import { randomUUID } from 'node:crypto';
import { openDatabase, type Db } from '../../src/lib/db/index.ts';
import type { Database } from '../../src/lib/db/database.ts';
import { upsertUserFromIdentity } from '../../src/lib/auth/users.ts';
import { createSession, SESSION_COOKIE } from '../../src/lib/auth/sessions.ts';
import { applyCreditChange } from '../../src/lib/billing/ledger.ts';
import { testPhoto } from '../../sandbox/minimax/test-support.ts';

/**
 * Users and sessions written straight into the server's database (WAL lets two processes
 * share it) through the same service functions sign-in uses; everything else goes through
 * the server's HTTP API like a browser would.
 */

export interface BenchUser {
  userId: string;
  cookie: string;
}

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

export function openServerDatabase(file: string): Db {
  return openDatabase(file);
}

export async function createBenchUser(db: Database, balance: number): Promise<BenchUser> {
  const now = Date.now();
  const email = `bench-${randomUUID().slice(0, 12)}@example.ru`;
  const { user } = await upsertUserFromIdentity(
    db,
    { provider: 'oidc', subject: `sub-${email}`, email, name: 'Бенчмарк', picture: null },
    { now, trialCredits: 0, adminEmails: [] },
  );
  if (balance !== user.balance) {
    await applyCreditChange(db, { userId: user.id, delta: balance - user.balance, kind: 'admin_adjustment', reference: `bench:${user.id}`, now });
  }
  const { token } = await createSession(db, user.id, { now, ttlMs: WEEK_MS });
  return { userId: user.id, cookie: `${SESSION_COOKIE}=${token}` };
}

let photoBytes: Buffer | null = null;

export async function uploadPhoto(baseUrl: string, user: BenchUser): Promise<void> {
  photoBytes ??= await testPhoto(640, 480);
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(photoBytes)], { type: 'image/jpeg' }), 'product.jpg');
  const res = await fetch(`${baseUrl}/api/upload-image`, { method: 'POST', headers: { cookie: user.cookie, origin: baseUrl }, body: form });
  if (!res.ok) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
}

export const GENERATE_BODY = { prompt: 'Флакон духов на мраморном столе, камера медленно приближается', duration: 6, mode: 'prompt' };

export async function requestGeneration(baseUrl: string, user: BenchUser): Promise<{ status: number; generationId: string | null }> {
  const res = await fetch(`${baseUrl}/api/generate`, {
    method: 'POST',
    headers: { cookie: user.cookie, origin: baseUrl, 'content-type': 'application/json' },
    body: JSON.stringify(GENERATE_BODY),
  });
  const body = (await res.json()) as { generationId?: string };
  return { status: res.status, generationId: body.generationId ?? null };
}

export async function waitForGeneration(baseUrl: string, user: BenchUser, generationId: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await fetch(`${baseUrl}/api/status?generationId=${generationId}`, { headers: { cookie: user.cookie } });
    const body = (await res.json()) as { status?: string; error?: string };
    last = body.status ?? `HTTP ${res.status}`;
    if (last === 'success') return last;
    if (last === 'failed') throw new Error(`generation failed: ${body.error ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`generation ${generationId} not finished in time (last: ${last})`);
}

/** Timings that finish a sandbox generation in well under a second. */
export const FAST_PIPELINE_ENV: Record<string, string> = {
  POLL_INTERVAL_MS: '50',
  QUEUE_BACKOFF_BASE_MS: '10',
  QUEUE_BACKOFF_MAX_MS: '40',
  QUEUE_SWEEP_INTERVAL_MS: '200',
  ENHANCER_TIMEOUT_MS: '2000',
  CAMERA_COMPILER_TIMEOUT_MS: '2000',
  TEMPLATE_ROUTER_TIMEOUT_MS: '2000',
};
export const FAST_MINIMAX = {
  stepMs: { preparing: 20, queueing: 20, processing: 30 },
  render: { maxShortSide: 120, fps: 12 },
};

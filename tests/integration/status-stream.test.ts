import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecondConnection, startApp, type TestApp } from '../helpers/app.ts';
import { apiFetch } from '../helpers/http.ts';
import { generate, uploadPhoto, waitUntil } from '../helpers/generation.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { openSse } from '../helpers/sse.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { stopBackgroundTasks } from '../../src/lib/context.ts';
import { deleteUserSessions } from '../../src/lib/auth/sessions.ts';

/**
 * `GET /api/status/stream` (issue 16 §5) against the real server. The worker is off and the
 * clock stands still, so a generation stays queued and a stream's event can be compared
 * byte for byte with `/api/status` answered at the same instant. Rows are changed through a
 * second database connection, as a worker in another process would change them.
 */

const STREAM_ENV = {
  STATUS_STREAM_TICK_MS: '100',
  STATUS_STREAM_HEARTBEAT_MS: '100',
  STATUS_STREAMS_PER_USER: '2',
  // The shortest request timeout the config allows: a stream must outlive it.
  SERVER_REQUEST_TIMEOUT_MS: '1000',
};

async function queuedGeneration(app: TestApp, seller: SignedInUser): Promise<string> {
  expect((await uploadPhoto(app.url, seller.cookie)).status).toBe(200);
  const res = await generate(app.url, seller.cookie, { prompt: 'Флакон духов на столе', duration: 6, mode: 'prompt' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { generationId: string }).generationId;
}

const streamPath = (id: string) => `/api/status/stream?generationId=${id}`;

describe('status stream', () => {
  let app: TestApp;
  let seller: SignedInUser;
  let id: string;

  beforeAll(async () => {
    app = await startApp({ clock: new ManualClock(), env: STREAM_ENV });
    seller = await createSignedInUser(app.ctx, { balance: 10 });
    id = await queuedGeneration(app, seller);
  });
  afterAll(async () => {
    await app.stop();
  });

  it('sends the current status at once, exactly the /api/status JSON, as an event stream', async () => {
    const stream = await openSse(app.url, streamPath(id), { cookie: seller.cookie });
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(stream.headers['cache-control']).toContain('no-store');
      expect(stream.headers['x-accel-buffering']).toBe('no');
      const first = await stream.event(0);
      const polled = await (await apiFetch(app.url, `/api/status?generationId=${id}`, { cookie: seller.cookie })).text();
      expect(first).toBe(polled);
      expect(JSON.parse(first)).toMatchObject({ id, status: 'queued', queuePosition: 1, etaMs: null });
    } finally {
      stream.close();
    }
  });

  it('follows changes another process writes to the database, and ends after the final status', async () => {
    const other = await createSignedInUser(app.ctx, { balance: 10 });
    const mine = await queuedGeneration(app, other);
    const stream = await openSse(app.url, streamPath(mine), { cookie: other.cookie });
    await stream.event(0);
    const elsewhere = openSecondConnection(app.ctx);
    try {
      await elsewhere.run(`UPDATE generations SET step = 'submit', updatedAt = updatedAt + 1 WHERE id = ?`, [mine]);
      expect(await stream.find<{ step: string }>((view) => view.step === 'submit')).toMatchObject({ id: mine, status: 'queued' });
      const cancel = await apiFetch(app.url, `/api/generations/${mine}/cancel`, { method: 'POST', cookie: other.cookie });
      expect(cancel.status).toBe(200);
      await stream.ended;
      const last = JSON.parse(stream.events.at(-1)!);
      expect(last).toMatchObject({ status: 'failed', errorReason: 'USER_CANCELED', refunded: true });
      expect(last).toEqual(await cancel.json());
    } finally {
      await elsewhere.end();
      stream.close();
    }
  });

  it('sends a finished generation once and ends', async () => {
    const other = await createSignedInUser(app.ctx, { balance: 10 });
    const done = await queuedGeneration(app, other);
    await apiFetch(app.url, `/api/generations/${done}/cancel`, { method: 'POST', cookie: other.cookie });
    const stream = await openSse(app.url, streamPath(done), { cookie: other.cookie });
    await stream.ended;
    expect(stream.events.map((e) => JSON.parse(e).status)).toEqual(['failed']);
  });

  it('keeps the owner rules of /api/status: others get 404, strangers 401, admins see it', async () => {
    const stranger = await createSignedInUser(app.ctx, { balance: 1 });
    const refused = await openSse(app.url, streamPath(id), { cookie: stranger.cookie, headers: { 'accept-language': 'ru' } });
    expect(refused.status).toBe(404);
    expect(JSON.parse(await refused.body)).toMatchObject({ code: 'GENERATION_NOT_FOUND', error: expect.stringContaining('Такого ролика нет') });

    const anonymous = await openSse(app.url, streamPath(id));
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(await anonymous.body)).toMatchObject({ code: 'UNAUTHORIZED' });

    const malformed = await openSse(app.url, '/api/status/stream?generationId=../x', { cookie: seller.cookie });
    expect(malformed.status).toBe(400);

    const admin = await createSignedInUser(app.ctx, { role: 'admin' });
    const watching = await openSse(app.url, streamPath(id), { cookie: admin.cookie });
    try {
      expect(watching.status).toBe(200);
      expect(JSON.parse(await watching.event(0))).toMatchObject({ id });
    } finally {
      watching.close();
    }
  });

  it('is reached under its one canonical path only', async () => {
    // Sent as written (a stream answered here would never end, and the test would time out).
    for (const spelling of ['/api/status//stream', '/api/status/./stream', '/api/status/%73tream', '/api/status/stream/', '/API/status/stream']) {
      const other = await rawRequest(app.url, { path: `${spelling}?generationId=${id}`, headers: { cookie: seller.cookie } });
      expect(String(other.headers['content-type'] ?? ''), `${spelling} → ${other.status}`).not.toContain('text/event-stream');
    }
  });

  it('refuses other methods and other sites', async () => {
    const post = await apiFetch(app.url, streamPath(id), { method: 'POST', cookie: seller.cookie });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    const crossSite = await openSse(app.url, streamPath(id), { cookie: seller.cookie, headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(await crossSite.body)).toMatchObject({ code: 'CROSS_SITE_REQUEST' });
  });

  it('sends the status again as a heartbeat when quiet, and outlives the server’s request timeout', async () => {
    const stream = await openSse(app.url, streamPath(id), { cookie: seller.cookie });
    try {
      const first = JSON.parse(await stream.event(0)) as { updatedAt: number };
      // 40 heartbeats at 100 ms or more: past the 1 s request timeout and Node's 2 s check of it.
      expect(JSON.parse(await stream.event(40, 20_000))).toEqual(first);
      expect(stream.comments).toBe(0);
      const elsewhere = openSecondConnection(app.ctx);
      await elsewhere.run(`UPDATE generations SET updatedAt = updatedAt + 1 WHERE id = ?`, [id]);
      await elsewhere.end();
      expect(await stream.find<{ updatedAt: number }>((view) => view.updatedAt === first.updatedAt + 1)).toMatchObject({ id, status: 'queued' });
    } finally {
      stream.close();
    }
  });

  it('holds a user to STATUS_STREAMS_PER_USER open streams, and frees a place when one closes', async () => {
    const first = await openSse(app.url, streamPath(id), { cookie: seller.cookie });
    const second = await openSse(app.url, streamPath(id), { cookie: seller.cookie });
    const third = await openSse(app.url, streamPath(id), { cookie: seller.cookie });
    try {
      expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
      expect(third.headers['retry-after']).toBe('30');
      expect(JSON.parse(await third.body)).toMatchObject({ code: 'STATUS_STREAMS_TOO_MANY', error: expect.stringContaining('вкладок') });
      const open = app.ctx.statusWatch.openCount;
      first.close();
      await waitUntil(() => app.ctx.statusWatch.openCount === open - 1, 5_000, 'the server to notice the closed stream');
      const again = await openSse(app.url, streamPath(id), { cookie: seller.cookie });
      expect(again.status).toBe(200);
      again.close();
    } finally {
      second.close();
    }
  });

  it('ends when the viewer signs out or is blocked (sessions deleted)', async () => {
    const leaving = await createSignedInUser(app.ctx, { balance: 10 });
    const theirs = await queuedGeneration(app, leaving);
    const stream = await openSse(app.url, streamPath(theirs), { cookie: leaving.cookie });
    await stream.event(0);
    await deleteUserSessions(app.ctx.db, leaving.user.id);
    await stream.ended;
  });
});

describe('status streams at shutdown', () => {
  it('are ended by stopping the background tasks (what SIGTERM does), and new ones are refused', async () => {
    const app = await startApp({ env: STREAM_ENV });
    try {
      const seller = await createSignedInUser(app.ctx, { balance: 10 });
      const id = await queuedGeneration(app, seller);
      const stream = await openSse(app.url, streamPath(id), { cookie: seller.cookie });
      await stream.event(0);
      await stopBackgroundTasks(app.ctx);
      await stream.ended;
      expect(app.ctx.statusWatch.openCount).toBe(0);
      const late = await openSse(app.url, streamPath(id), { cookie: seller.cookie });
      expect(late.status).toBe(503);
    } finally {
      await app.stop();
    }
  });
});

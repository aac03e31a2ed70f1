import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllowList } from '../../src/lib/http/client-address.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { isMetricsAccessAllowed } from '../../src/lib/http/metrics-access.ts';
import { createMetrics, nodeRouteLabel } from '../../src/lib/metrics/metrics.ts';
import { seedUser } from '../helpers/fixtures.ts';

describe('nodeRouteLabel', () => {
  it.each([
    ['/api/video/gen_01jq8x4z7k2m3n4p5q6r7s8t9v', '/api/video/:id'],
    ['/api/video/current', '/api/video/:id'],
    ['/api/uploads/upl_1712345678901_ab12', '/api/uploads/:id'],
    ['/minimax_callback', '/minimax_callback'],
    ['/healthz', '/healthz'],
    ['/metrics', '/metrics'],
  ])('%s → %s', (pathname, label) => {
    expect(nodeRouteLabel(pathname)).toBe(label);
  });
});

describe('isMetricsAccessAllowed', () => {
  const loopback = parseAllowList(['127.0.0.1', '::1']);
  const office = parseAllowList(['10.0.0.0/8']);
  const headers = (h: Record<string, string> = {}) => new Headers(h);

  it.each([
    ['loopback peer, no token set', { socketAddress: '127.0.0.1' }, { token: '', allowList: loopback, trustProxy: false }, true],
    ['IPv4-mapped loopback peer', { socketAddress: '::ffff:127.0.0.1' }, { token: '', allowList: loopback, trustProxy: false }, true],
    ['peer not on the list', { socketAddress: '192.0.2.7' }, { token: '', allowList: loopback, trustProxy: false }, false],
    ['right token from anywhere', { socketAddress: '192.0.2.7', authorization: 'Bearer s3cret-token' }, { token: 's3cret-token', allowList: loopback, trustProxy: false }, true],
    ['wrong token from anywhere', { socketAddress: '192.0.2.7', authorization: 'Bearer nope' }, { token: 's3cret-token', allowList: loopback, trustProxy: false }, false],
    ['a bearer when no token is configured', { socketAddress: '192.0.2.7', authorization: 'Bearer ' }, { token: '', allowList: loopback, trustProxy: false }, false],
    ['loopback peer forwarding for someone, proxy not trusted', { socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } }, { token: '', allowList: loopback, trustProxy: false }, false],
    ['trusted proxy, client on the list', { socketAddress: '127.0.0.1', headers: { 'x-real-ip': '10.1.2.3' } }, { token: '', allowList: office, trustProxy: true }, true],
    ['trusted proxy, client not on the list', { socketAddress: '127.0.0.1', headers: { 'x-real-ip': '203.0.113.9' } }, { token: '', allowList: loopback, trustProxy: true }, false],
  ] as const)('%s', (_name, request, policy, expected) => {
    const allowed = isMetricsAccessAllowed(
      {
        authorization: 'authorization' in request ? request.authorization : undefined,
        socketAddress: request.socketAddress,
        headers: headers('headers' in request ? request.headers : {}),
      },
      policy,
    );
    expect(allowed).toBe(expected);
  });
});

describe('createMetrics', () => {
  const dirs: string[] = [];
  let db: Db | null = null;
  afterEach(() => {
    db?.close();
    db = null;
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  function openTemp(clock: ManualClock): Db {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-metrics-'));
    dirs.push(dir);
    const opened = openDatabase(path.join(dir, 'beem.db'));
    migrate(opened, undefined, clock.now());
    return opened;
  }

  const value = (text: string, series: string): number | null => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : null;
  };

  it('reuses the ledger check within the cache period and sees a drift after it', async () => {
    const clock = new ManualClock();
    db = openTemp(clock);
    const user = await seedUser(db, { now: clock.now() });
    const metrics = createMetrics({ db, clock, cacheMs: 60_000 });
    expect(value(await metrics.render(), 'beem_ledger_mismatched_users')).toBe(0);

    db.prepare('UPDATE users SET generation_balance = 99 WHERE id = ?').run(user.id);
    clock.advance(59_000);
    expect(value(await metrics.render(), 'beem_ledger_mismatched_users')).toBe(0);
    clock.advance(1_000);
    expect(value(await metrics.render(), 'beem_ledger_mismatched_users')).toBe(1);
  });

  it('counts live generations at every scrape', async () => {
    const clock = new ManualClock();
    db = openTemp(clock);
    const user = await seedUser(db, { now: clock.now() });
    const metrics = createMetrics({ db, clock, cacheMs: 60_000 });
    expect(value(await metrics.render(), 'beem_queue_length')).toBe(0);
    const insert = db.prepare(
      `INSERT INTO generations (id, userId, status, step, duration, cost, prompt, generation_mode, next_attempt_at, createdAt, updatedAt)
       VALUES (?, ?, ?, ?, 6, 1, 'p', 'prompt', 0, 0, 0)`,
    );
    insert.run('g1', user.id, 'queued', 'prepare');
    insert.run('g2', user.id, 'queued', 'submit');
    insert.run('g3', user.id, 'processing', 'poll');
    const text = await metrics.render();
    expect(value(text, 'beem_queue_length')).toBe(2);
    expect(value(text, 'beem_minimax_tasks_in_flight')).toBe(1);
    expect(value(text, 'beem_generations{status="queued"}')).toBe(2);
    expect(value(text, 'beem_generations{status="processing"}')).toBe(1);
    expect(value(text, 'beem_generations{status="success"}')).toBe(0);
  });
});

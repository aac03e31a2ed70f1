import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMain, runAlone, type Benchmark } from './lib/report.ts';
import { startBenchServer } from './lib/stack.ts';
import { createBenchUser, openServerDatabase, requestGeneration, uploadPhoto, type BenchUser } from './lib/fixtures.ts';
import { migrate, openDatabase } from '../src/lib/db/index.ts';
import { findLedgerMismatches } from '../src/lib/billing/ledger.ts';
import { measureHoldRate } from './lib/holds.ts';

/**
 * Credit holds under contention. First over HTTP against the built server: 100 users with
 * 0–15 credits each fire 10 generate requests apiece, all 1,000 at once; every user must
 * get exactly min(10, credits) accepted, no balance below zero, the ledger consistent.
 * Then the hold transaction's rate on one database, next to plain single-row inserts.
 */

const USERS = 100;
const REQUESTS_PER_USER = 10;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function concurrentHolds(): Promise<{ accepted: number; expected: number; problems: string[]; seconds: number }> {
  const server = await startBenchServer({ env: { RATE_LIMIT_GENERATE_PER_MIN: '1000', RATE_LIMIT_UPLOAD_PER_MIN: '1000' } });
  try {
    const db = openServerDatabase(server.databaseFile);
    const users: Array<BenchUser & { credits: number }> = [];
    for (let i = 0; i < USERS; i++) {
      const credits = i % 16;
      users.push({ ...(await createBenchUser(db, credits)), credits });
    }
    await inBatches(users, 10, (user) => uploadPhoto(server.url, user));

    const started = performance.now();
    const answers = await Promise.all(
      users.flatMap((user) => Array.from({ length: REQUESTS_PER_USER }, async () => ({ user, ...(await requestGeneration(server.url, user)) }))),
    );
    const seconds = (performance.now() - started) / 1000;

    const problems: string[] = [];
    const unexpected = answers.filter((a) => a.status !== 200 && a.status !== 402);
    if (unexpected.length > 0) problems.push(`${unexpected.length} answers neither 200 nor 402 (e.g. ${unexpected[0]!.status})`);
    let expected = 0;
    for (const user of users) {
      const accepted = answers.filter((a) => a.user === user && a.status === 200).length;
      const want = Math.min(REQUESTS_PER_USER, user.credits);
      expected += want;
      if (accepted !== want) problems.push(`user with ${user.credits} credits got ${accepted} accepted`);
      const held = -(await db.value<number>(`SELECT COALESCE(SUM(delta), 0) FROM credit_ledger WHERE userId = ? AND kind = 'hold'`, [user.userId]))!;
      if (held > user.credits) problems.push(`user with ${user.credits} credits has ${held} held`);
      const balance = (await db.value<number>('SELECT generation_balance FROM users WHERE id = ?', [user.userId]))!;
      if (balance < 0) problems.push(`negative balance ${balance}`);
    }
    const mismatches = await findLedgerMismatches(db);
    if (mismatches.length > 0) problems.push(`${mismatches.length} users whose balance differs from the ledger`);
    db.close();
    return { accepted: answers.filter((a) => a.status === 200).length, expected, problems, seconds };
  } finally {
    await server.stop();
  }
}

async function holdRate(count: number): Promise<{ holdsPerSecond: number; insertsPerSecond: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-bench-holds-'));
  const db = openDatabase(path.join(dir, 'beem.db'));
  try {
    migrate(db);
    return await measureHoldRate(db, count);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const creditsBenchmark: Benchmark = {
  name: 'credits',
  title: 'credit holds under contention',
  async run(options) {
    const http = await concurrentHolds();
    await holdRate(500); // warm-up
    const rate = await holdRate(options.full ? 20_000 : 3_000);
    return [
      {
        bench: 'credits',
        figure: `1,000 concurrent generate requests over 100 users: accepted (${http.seconds.toFixed(1)} s)`,
        value: http.accepted,
        unit: 'accepted',
        baseline: { label: 'Σ min(requests, credits)', value: http.expected },
        ratio: http.expected > 0 ? http.accepted / http.expected : null,
        target: 'exactly the credits; no balance < 0; ledger consistent',
        pass: http.problems.length === 0 && http.accepted === http.expected,
        ...(http.problems.length > 0 ? { note: http.problems.slice(0, 5).join('; ') } : {}),
      },
      {
        bench: 'credits',
        figure: 'hold transactions/s (row + ledger + balance + event, one transaction)',
        value: rate.holdsPerSecond,
        unit: 'tx/s',
        baseline: { label: 'single-row inserts/s, same database', value: rate.insertsPerSecond },
        ratio: rate.holdsPerSecond / rate.insertsPerSecond,
        target: 'reported',
        pass: null,
      },
    ];
  },
};

if (isMain(import.meta.url)) await runAlone(creditsBenchmark);

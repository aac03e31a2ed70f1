import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { YookassaEmulator } from '../../sandbox/yookassa/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { closeContext, createContext, type AppContext } from '../../src/lib/context.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import { getPayment } from '../../src/lib/billing/payments.ts';
import { tempDir } from '../helpers/app.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';

const children: ChildProcess[] = [];
let sandbox: Sandbox | null = null;
let ctx: AppContext | null = null;
const dir = tempDir();

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (ctx) closeContext(ctx);
  await sandbox?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The built server as a real process; resolves with its URL once it listens. */
async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['dist/server/main.mjs'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^"\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  return { child, url };
}

it('credits a payment made while the server was killed (SIGKILL), once it starts again', async () => {
  sandbox = await startSandbox();
  const env = {
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'info',
    DATABASE_URL: path.join(dir, 'beem.db'),
    STORAGE_DIR: path.join(dir, 'storage'),
    SANDBOX_URL: sandbox.url,
    YOOKASSA_RETRY_BASE_MS: '20',
  };
  const first = await startServer(env);
  sandbox.setAppUrl(first.url);
  // The test reaches the same SQLite file (WAL) to make a signed-in user and to look at the result.
  ctx = createContext(loadConfig(env), { log: createLogger('silent') });
  const { user, cookie } = createSignedInUser(ctx, { balance: 0 });

  const created = await apiFetch(first.url, '/api/payments/yookassa/create', { cookie, json: { plan: 'basic' } });
  expect(created.status).toBe(200);
  const { paymentId, externalPaymentId } = (await created.json()) as { paymentId: string; externalPaymentId: string };

  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  // The buyer pays while Beem is down; YooKassa's notification goes nowhere.
  const emulator = sandbox.emulator<YookassaEmulator>('yookassa');
  await emulator.injectFault({ fault: { kind: 'drop_notification' } });
  await emulator.act({ action: 'pay', paymentId: externalPaymentId });
  expect(getPayment(ctx.db, paymentId)).toMatchObject({ status: 'pending', applied: false });

  const second = await startServer(env);
  await expect.poll(() => getPayment(ctx!.db, paymentId)?.applied, { timeout: 10_000, interval: 50 }).toBe(true);
  expect(ctx.db.prepare('SELECT generation_balance FROM users WHERE id = ?').pluck().get(user.id)).toBe(50);
  expect(findLedgerMismatches(ctx.db)).toEqual([]);

  const stopped = new Promise((resolve) => second.child.once('exit', resolve));
  second.child.kill('SIGTERM');
  expect(await stopped).toBe(0);
});

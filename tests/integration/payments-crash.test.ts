import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { YookassaEmulator } from '../../sandbox/yookassa/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { closeContext, createContext, type AppContext } from '../../src/lib/context.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import { getPayment } from '../../src/lib/billing/payment-store.ts';
import { tempDir } from '../helpers/app.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const children: ServerProcess[] = [];
let sandbox: Sandbox | null = null;
let ctx: AppContext | null = null;
const dir = tempDir();

afterAll(async () => {
  for (const child of children) await child.stop();
  if (ctx) await closeContext(ctx);
  await sandbox?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess(env);
  children.push(server);
  return server;
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
  ctx = await createContext(loadConfig(env), { log: createLogger('silent') });
  const { user, cookie } = await createSignedInUser(ctx, { balance: 0 });

  const created = await apiFetch(first.url, '/api/payments/yookassa/create', { cookie, json: { plan: 'basic' } });
  expect(created.status).toBe(200);
  const { paymentId, externalPaymentId } = (await created.json()) as { paymentId: string; externalPaymentId: string };

  await first.stop(); // SIGKILL
  // The buyer pays while Beem is down; YooKassa's notification goes nowhere.
  const emulator = sandbox.emulator<YookassaEmulator>('yookassa');
  await emulator.injectFault({ fault: { kind: 'drop_notification' } });
  await emulator.act({ action: 'pay', paymentId: externalPaymentId });
  expect(await getPayment(ctx.db, paymentId)).toMatchObject({ status: 'pending', applied: false });

  const second = await startServer(env);
  await expect.poll(async () => (await getPayment(ctx!.db, paymentId))?.applied, { timeout: 10_000, interval: 50 }).toBe(true);
  expect(await ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [user.id])).toBe(50);
  expect(await findLedgerMismatches(ctx.db)).toEqual([]);

  const stopped = new Promise((resolve) => second.child.once('exit', resolve));
  second.child.kill('SIGTERM');
  expect(await stopped).toBe(0);
});

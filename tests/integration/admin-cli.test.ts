import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { tempDir } from '../helpers/app.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createContext, closeContext, type AppContext } from '../../src/lib/context.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { findLedgerMismatches, applyCreditChange, listLedgerEntries } from '../../src/lib/billing/ledger.ts';
import { upsertUserFromIdentity, getUserByEmail } from '../../src/lib/auth/users.ts';
import { listAudit } from '../../src/lib/admin/audit.ts';
import { openDatabase } from '../../src/lib/db/index.ts';
import { startPayment } from '../../src/lib/billing/start-payment.ts';

const run = promisify(execFile);

/**
 * The operator shell as operators run it: `node dist/server/cli.mjs <command>` as a child
 * process on a temporary database (and the sandbox for YooKassa and Telegram).
 */
describe('operator commands (npm run admin)', () => {
  let sandbox: Sandbox;
  let dir: string;
  let env: Record<string, string>;
  let ctx: AppContext;

  beforeAll(async () => {
    sandbox = await startSandbox();
    dir = tempDir();
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: path.join(dir, 'beem.db'),
      STORAGE_DIR: path.join(dir, 'storage'),
      SANDBOX_URL: sandbox.url,
      LOG_LEVEL: 'silent',
      STUCK_AFTER_MS: '60000',
      TELEGRAM_MIN_INTERVAL_MS: '0',
      YOOKASSA_RETRY_BASE_MS: '20',
    };
    // The test looks at the same SQLite file (WAL) the commands change.
    ctx = await createContext(loadConfig(env), { log: createLogger('silent') });
  });
  afterAll(async () => {
    await closeContext(ctx);
    await sandbox.close();
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, ['dist/server/cli.mjs', ...args], {
        env: { PATH: process.env.PATH ?? '', ...env },
        timeout: 20_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  const signIn = async (email: string) =>
    (await upsertUserFromIdentity(
      ctx.db,
      { provider: 'oidc', subject: `sub-${email}`, email, name: null, picture: null },
      { now: Date.now(), trialCredits: 3, adminEmails: [] },
    )).user;

  it('prints the commands', async () => {
    const { code, stdout } = await cli('help');
    expect(code).toBe(0);
    for (const name of ['admin:grant', 'admin:revoke', 'backup', 'payments:recheck', 'generations:requeue', 'generations:fail-stuck']) {
      expect(stdout).toContain(name);
    }
    const unknown = await cli('drop-everything');
    expect(unknown.code).toBe(64);
  });

  it('names the database it acts on, and refuses to create an empty one', async () => {
    const listed = await cli('admin:list');
    expect(listed.stderr).toContain(`Database: ${env.DATABASE_URL}`);

    const elsewhere = path.join(dir, 'not-created-yet', 'beem.db');
    const { code, stdout, stderr } = await (async () => {
      const saved = env.DATABASE_URL!;
      env.DATABASE_URL = elsewhere;
      try {
        return await cli('admin:grant', 'me@example.ru');
      } finally {
        env.DATABASE_URL = saved;
      }
    })();
    expect(code).toBe(66);
    expect(stdout).toBe('');
    expect(stderr).toContain(`No database at ${elsewhere}`);
    expect(stderr).toContain('DATABASE_URL=data/demo.db npm run admin -- admin:grant me@example.ru');
    expect(fs.existsSync(elsewhere)).toBe(false);
  });

  it('admin:grant promotes an existing user, or waits for the first sign-in; admin:revoke takes it back', async () => {
    await signIn('owner@example.ru');
    const promoted = await cli('admin:grant', 'Owner@Example.ru', '--reason', 'владелец');
    expect(promoted).toMatchObject({ code: 0 });
    expect(promoted.stdout).toContain('owner@example.ru is now an admin.');
    expect((await getUserByEmail(ctx.db, 'owner@example.ru'))?.role).toBe('admin');

    const pending = await cli('admin:grant', 'future@example.ru');
    expect(pending.stdout).toContain('become an admin at their first sign-in');
    expect((await signIn('future@example.ru')).role).toBe('admin');

    const listed = await cli('admin:list');
    expect(listed.stdout).toMatch(/future@example\.ru\tusr_/);
    expect(listed.stdout).toMatch(/owner@example\.ru\tusr_/);

    expect((await cli('admin:revoke', 'owner@example.ru')).stdout).toContain('is no longer an admin');
    expect((await getUserByEmail(ctx.db, 'owner@example.ru'))?.role).toBe('user');
    expect((await cli('admin:grant', 'not-an-email')).code).toBe(1);
    expect((await listAudit(ctx.db, { actor: 'cli' })).map((a) => a.action)).toEqual(
      expect.arrayContaining(['user.grant_admin', 'admin.grant_pending', 'user.revoke_admin']),
    );
    expect((await listAudit(ctx.db, { action: 'user.grant_admin', actor: 'cli' })).at(-1)?.reason).toBe('владелец');
  });

  it('backup writes a consistent copy that opens with every table', async () => {
    const target = path.join(dir, 'copies', 'beem-copy.db');
    const { code, stdout } = await cli('backup', target);
    expect(code).toBe(0);
    expect(stdout).toContain(`Backup written to ${target}`);
    const copy = openDatabase(target);
    expect(await copy.value('SELECT COUNT(*) FROM users')).toBeGreaterThan(0);
    expect(await copy.value(`SELECT COUNT(*) FROM admin_audit WHERE action = 'db.backup'`)).toBe(1);
    copy.close();
  });

  it('payments:recheck credits a paid payment whose notification was lost, once', async () => {
    const buyer = await signIn('buyer@example.ru');
    const started = await startPayment(ctx, { user: buyer, tariffId: 'single' });
    for (const body of [{ fault: { kind: 'drop_notification' } }, { action: 'pay', paymentId: started.externalPaymentId }]) {
      const res = await fetch(`${sandbox.url}/_sandbox/yookassa/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
    }

    const first = await cli('payments:recheck');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Checked 1 open payment(s): 1 credited');
    const second = await cli('payments:recheck');
    expect(second.stdout).toContain('Checked 0 open payment(s)');
    expect((await listLedgerEntries(ctx.db, buyer.id)).filter((l) => l.kind === 'payment')).toHaveLength(1);
    expect((await listAudit(ctx.db, { action: 'payments.recheck_pending' }))[1]?.detail).toMatchObject({ checked: 1, credited: 1 });
  });

  it('generations:fail-stuck fails and refunds stuck generations once; generations:requeue makes one due now', async () => {
    const seller = await signIn('stuck@example.ru');
    const now = Date.now();
    const insert = (params: unknown[]) =>
      ctx.db.run(
        `INSERT INTO generations (id, userId, status, step, duration, cost, generation_mode, minimax_job_id, submittedAt,
           next_attempt_at, createdAt, updatedAt)
         VALUES (?, ?, 'processing', 'poll', 6, 1, 'prompt', ?, ?, ?, ?, ?)`,
        params,
      );
    await insert(['gen_cli_stuck', seller.id, 'task-cli-stuck', now - 5 * 60_000, now + 3_600_000, now - 6 * 60_000, now]);
    await insert(['gen_cli_fresh', seller.id, 'task-cli-fresh', now - 10_000, now + 3_600_000, now - 20_000, now]);
    for (const id of ['gen_cli_stuck', 'gen_cli_fresh']) {
      await applyCreditChange(ctx.db, { userId: seller.id, delta: -1, kind: 'hold', reference: `hold:${id}`, now });
    }

    const failed = await cli('generations:fail-stuck');
    expect(failed.stdout).toContain('Failed and refunded 1: gen_cli_stuck');
    expect((await cli('generations:fail-stuck')).stdout).toContain('No stuck generations.');
    expect(await ctx.db.get('SELECT status, refunded FROM generations WHERE id = ?', ['gen_cli_stuck'])).toEqual({ status: 'failed', refunded: 1 });
    expect((await listLedgerEntries(ctx.db, seller.id)).filter((l) => l.reference === 'refund:gen_cli_stuck')).toHaveLength(1);

    const requeued = await cli('generations:requeue', 'gen_cli_fresh');
    expect(requeued.code).toBe(0);
    expect(await ctx.db.value('SELECT next_attempt_at FROM generations WHERE id = ?', ['gen_cli_fresh']) as number).toBeLessThanOrEqual(Date.now());
    const refused = await cli('generations:requeue', 'gen_cli_missing');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no such video');

    expect((await cli('generations:refund', 'gen_cli_stuck', '--reason', 'проверка')).stdout).toContain('already refunded');
    expect(await findLedgerMismatches(ctx.db)).toEqual([]);
  });

  it('alerts:test reports the delivery through the sandbox Telegram', async () => {
    const { code, stdout } = await cli('alerts:test');
    expect(code).toBe(0);
    expect(stdout).toContain('Test alert: sent');
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { FAST_MINIMAX } from '../../sandbox/minimax/test-support.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { closeContext, createContext, startBackgroundTasks, stopBackgroundTasks, type AppContext } from '../../src/lib/context.ts';
import { inTransaction } from '../../src/lib/db/database.ts';
import { handleMinimaxCallback } from '../../src/lib/generation/callback.ts';
import { createGeneration } from '../../src/lib/generation/create.ts';
import { GENERATION_JOB_QUEUES, type GenerationJobs, type GenerationJob } from '../../src/lib/generation/generation-jobs.ts';
import { claimGenerationById, savePreparedPrompt } from '../../src/lib/generation/queue.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { tempDir, testsUsePostgres } from '../helpers/app.ts';
import { FAST_QUEUE_ENV, photo, waitUntil } from '../helpers/generation.ts';
import { createTestDatabase, type TestPostgres } from '../helpers/postgres.ts';
import { PREPARED_PROMPT } from '../helpers/queue.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';
import { capturedLog } from '../helpers/log.ts';

/**
 * On PostgreSQL the generation queue is pg-boss (generation-jobs.ts, pg-boss-worker.ts): jobs
 * carry "work on generation X", the generations row keeps state and money. Several contexts on
 * one database stand for several processes (each has its own pool, pg-boss and worker id).
 */
const PREPARE = GENERATION_JOB_QUEUES.prepare;

describe.runIf(testsUsePostgres())('the generation queue on pg-boss', () => {
  let sandbox: Sandbox;
  let minimax: MinimaxEmulator;
  let pg: TestPostgres;
  let dir: string;
  let contexts: AppContext[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ minimax: { ...FAST_MINIMAX, rpmLimit: null } });
    minimax = sandbox.emulator<MinimaxEmulator>('minimax');
  });
  afterAll(async () => {
    await sandbox.close();
  });
  afterEach(async () => {
    for (const ctx of contexts) {
      await stopBackgroundTasks(ctx);
      await closeContext(ctx);
    }
    contexts = [];
    await pg?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function freshDatabase(): Promise<void> {
    pg = await createTestDatabase();
    dir = tempDir();
    minimax.reset();
  }

  /** One more "process" on the test's database. */
  async function startContext(log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), env: Record<string, string> = {}): Promise<AppContext> {
    const loaded = loadConfig({
      NODE_ENV: 'test',
      SANDBOX_URL: sandbox.url,
      DATABASE_URL: pg.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      ...FAST_QUEUE_ENV,
      // A short lease and download limit make a crashed handler's pg-boss job expire within seconds.
      QUEUE_LEASE_MS: '500',
      VIDEO_DOWNLOAD_TIMEOUT_MS: '1000',
      ...env,
    });
    const ctx = await createContext(loaded, { log });
    contexts.push(ctx);
    return ctx;
  }

  function jobsOf(ctx: AppContext): GenerationJobs {
    if (!ctx.generationJobs) throw new Error('this context runs no pg-boss');
    return ctx.generationJobs;
  }

  let users = 0;
  /** A new user with `credits` and a real photo on disk (the submit step reads it). */
  async function userWithPhoto(ctx: AppContext, credits: number): Promise<string> {
    const email = `seller${++users}@example.ru`;
    const userId = await seedUserWithPhoto(ctx.db, { now: Date.now(), trialCredits: credits, email });
    const file = path.join(ctx.config.paths.storageDir, 'users', userId, 'uploads', 'upl_1.jpg');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, await photo());
    return userId;
  }

  function generate(ctx: AppContext, userId: string): Promise<{ generationId: string }> {
    return createGeneration({
      db: ctx.db,
      config: ctx.config,
      queue: ctx.generationWorker,
      userId,
      body: { prompt: 'Флакон духов на мраморе', duration: 6, mode: 'prompt' },
      idempotencyKey: null,
      now: Date.now(),
    });
  }

  async function prepareJobs(ctx: AppContext): Promise<string[]> {
    const jobs = await jobsOf(ctx).boss.findJobs<GenerationJob>(PREPARE);
    return jobs.map((job) => job.data.generationId);
  }

  async function ledgerKinds(ctx: AppContext, userId: string): Promise<string[]> {
    const rows = await ctx.db.all<{ kind: string }>('SELECT kind FROM credit_ledger WHERE userId = ? ORDER BY id', [userId]);
    return rows.map((r) => r.kind);
  }

  it('starts two processes at once on an empty database: pg-boss installs its schema once and both send', async () => {
    await freshDatabase();
    const [a, b] = await Promise.all([startContext(), startContext()]);
    for (const queue of Object.values(GENERATION_JOB_QUEUES)) {
      expect((await jobsOf(a).boss.getQueue(queue))?.policy).toBe('short');
    }
    const userId = await userWithPhoto(a, 5);
    const first = await generate(a, userId);
    const second = await generate(b, userId);
    expect((await prepareJobs(b)).sort()).toEqual([first.generationId, second.generationId].sort());
  });

  it('sends the job in the transaction that holds the credits: what rolls back takes the job with it', async () => {
    await freshDatabase();
    const ctx = await startContext();
    const userId = await userWithPhoto(ctx, 1);

    // Something failing after the send (here: the body itself) rolls the send back too.
    await expect(
      inTransaction(ctx.db, async (tx) => {
        await ctx.generationWorker.enqueue(tx, 'gen_never_committed');
        throw new Error('fails after the send');
      }),
    ).rejects.toThrow('fails after the send');
    expect(await prepareJobs(ctx)).toEqual([]);

    // A refused hold (no credits left after the first) sends nothing.
    const accepted = await generate(ctx, userId);
    await expect(generate(ctx, userId)).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    expect(await prepareJobs(ctx)).toEqual([accepted.generationId]);
    expect(await ledgerKinds(ctx, userId)).toEqual(['trial', 'hold']);

    // A failing send rolls back the generation and its hold.
    const refunded = await userWithPhoto(ctx, 1);
    await jobsOf(ctx).boss.deleteQueue(PREPARE);
    await expect(generate(ctx, refunded)).rejects.toThrow();
    expect(await ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [refunded])).toBe(1);
    expect(await ledgerKinds(ctx, refunded)).toEqual(['trial']);
    expect(await ctx.db.value('SELECT COUNT(*) FROM generations WHERE userId = ?', [refunded])).toBe(0);
  });

  it('lets a stale attempt complete neither its job nor its step', async () => {
    await freshDatabase();
    const ctx = await startContext();
    const { boss } = jobsOf(ctx);
    const { generationId: id } = await generate(ctx, await userWithPhoto(ctx, 1));

    // Worker A takes the job and the row, then stalls past its lease; the job fails and is retried.
    const [first] = await boss.fetch<GenerationJob>(PREPARE);
    expect(first?.data.generationId).toBe(id);
    const stale = await claimGenerationById(ctx.db, id, { lane: 'prepare', now: Date.now(), leaseMs: 1, workerId: 'worker-a' });
    expect(stale?.attempt).toBe(1);
    await boss.fail(PREPARE, { id: first!.id, retryCount: first!.retryCount });
    let retried: Awaited<ReturnType<typeof boss.fetch<GenerationJob>>> = [];
    await waitUntil(async () => (retried = await boss.fetch<GenerationJob>(PREPARE)).length > 0, 20_000, 'the retry of the job');
    expect(retried[0]).toMatchObject({ id: first!.id, retryCount: 1 });
    const current = await claimGenerationById(ctx.db, id, { lane: 'prepare', now: Date.now() + 5, leaseMs: 60_000, workerId: 'worker-b' });
    expect(current?.attempt).toBe(2);

    // A's late completion and its late write change nothing.
    expect(await boss.complete(PREPARE, { id: first!.id, retryCount: 0 })).toMatchObject({ affected: 0 });
    expect(await savePreparedPrompt(ctx.db, stale!, PREPARED_PROMPT, Date.now())).toBe(false);
    expect(await ctx.db.get('SELECT step, attempt, locked_by FROM generations WHERE id = ?', [id])).toEqual({ step: 'prepare', attempt: 2, locked_by: 'worker-b' });
    expect((await boss.getJobById(PREPARE, first!.id))?.state).toBe('active');

    // B's are the ones that count.
    expect(await savePreparedPrompt(ctx.db, current!, PREPARED_PROMPT, Date.now())).toBe(true);
    expect(await boss.complete(PREPARE, { id: first!.id, retryCount: 1 })).toMatchObject({ affected: 1 });
  });

  it('retries a job whose handler died mid-step, and charges the generation once', async () => {
    await freshDatabase();
    const ctx = await startContext();
    const { boss } = jobsOf(ctx);
    const userId = await userWithPhoto(ctx, 1);
    const { generationId: id } = await generate(ctx, userId);

    // A process took the job and the row, then died: nothing settles either.
    const [taken] = await boss.fetch<GenerationJob>(PREPARE);
    expect(taken?.data.generationId).toBe(id);
    const dead = await claimGenerationById(ctx.db, id, { lane: 'prepare', now: Date.now(), leaseMs: 500, workerId: 'gone-host:1:dead' });
    expect(dead?.attempt).toBe(1);

    ctx.generationWorker.start();
    await waitUntil(async () => (await ctx.db.value('SELECT status FROM generations WHERE id = ?', [id])) === 'success', 30_000, 'the generation to succeed');
    // pg-boss expires the dead handler's job and retries it; the retry finds the work done.
    await waitUntil(async () => (await boss.getJobById(PREPARE, taken!.id))?.state === 'completed', 30_000, 'the expired job to be retried');
    expect((await boss.getJobById(PREPARE, taken!.id))?.retryCount).toBeGreaterThanOrEqual(1);

    expect(await ctx.db.get('SELECT charged, refunded FROM generations WHERE id = ?', [id])).toEqual({ charged: 1, refunded: 0 });
    expect(await ledgerKinds(ctx, userId)).toEqual(['trial', 'hold']);
    expect(await ctx.db.value(`SELECT COUNT(*) FROM generation_events WHERE generationId = ? AND kind = 'submitted'`, [id])).toBe(1);
    expect(minimax.tasks()).toHaveLength(1);
  }, 60_000);

  it('two processes work through N generations, each exactly once', async () => {
    await freshDatabase();
    const [a, b] = await Promise.all([startContext(), startContext()]);
    const N = 8;
    const users = await Promise.all(Array.from({ length: N }, () => userWithPhoto(a, 1)));
    const ids: string[] = [];
    for (const [i, userId] of users.entries()) ids.push((await generate(i % 2 === 0 ? a : b, userId)).generationId);
    a.generationWorker.start();
    b.generationWorker.start();

    await waitUntil(
      async () => (await a.db.value(`SELECT COUNT(*) FROM generations WHERE status = 'success'`)) === N,
      60_000,
      'every generation to succeed',
    );
    for (const [i, id] of ids.entries()) {
      expect(await a.db.get('SELECT charged, refunded FROM generations WHERE id = ?', [id])).toEqual({ charged: 1, refunded: 0 });
      expect(await ledgerKinds(a, users[i]!)).toEqual(['trial', 'hold']);
      const events = await a.db.all<{ kind: string }>(`SELECT kind FROM generation_events WHERE generationId = ? AND kind IN ('prepared', 'submitted', 'succeeded')`, [id]);
      expect(events.map((e) => e.kind).sort()).toEqual(['prepared', 'submitted', 'succeeded']);
    }
    // One MiniMax task per generation: no step ran twice.
    expect(minimax.tasks()).toHaveLength(N);
  }, 60_000);

  it('a MiniMax callback taken by a web process brings the poll forward for the worker that runs it', async () => {
    await freshDatabase();
    // Polls an hour apart: only the callback can finish this generation within the test.
    const slowPolls = { POLL_INTERVAL_MS: '3600000' };
    const worker = await startContext(undefined, { ...slowPolls, BEEM_ROLE: 'worker' });
    const web = await startContext(undefined, { ...slowPolls, BEEM_ROLE: 'web' });
    worker.generationWorker.start();
    const userId = await userWithPhoto(web, 1);
    const { generationId } = await generate(web, userId);
    web.generationWorker.wake(generationId);
    // At MiniMax, the first poll an hour away, its job waiting with it.
    let taskId: string | null = null;
    await waitUntil(async () => {
      const row = await web.db.get<{ minimax_job_id: string | null; locked_until: number | null; next_attempt_at: number }>(
        `SELECT minimax_job_id, locked_until, next_attempt_at FROM generations WHERE id = ? AND step = 'poll'`,
        [generationId],
      );
      taskId = row?.minimax_job_id ?? null;
      return row !== undefined && row.locked_until === null && row.next_attempt_at > Date.now() + 60_000;
    }, 20_000, 'the task at MiniMax');
    // MiniMax has finished it and says so in its push (a push only makes Beem ask: a forged one early changes nothing).
    await minimax.waitForTask(taskId!, ['Success']);
    const outcome = await handleMinimaxCallback(web.db, { task_id: taskId, status: 'success' }, Date.now());
    expect(outcome).toEqual({ kind: 'push', taskId, generationId });
    web.generationWorker.wake(generationId);
    await waitUntil(async () => (await web.db.value('SELECT status FROM generations WHERE id = ?', [generationId])) === 'success', 20_000, 'the video');
  });

  it('runs the stuck detector, reconciliation, the session sweep and the retention sweep in one of two processes', async () => {
    await freshDatabase();
    const first = capturedLog('info');
    const second = capturedLog('info');
    const [a, b] = await Promise.all([startContext(first.log), startContext(second.log)]);
    startBackgroundTasks(a);
    startBackgroundTasks(b);
    const leads = (lines: Array<Record<string, unknown>>) =>
      lines.filter((line) => line.msg === 'this process now runs the task for all processes').map((line) => line.task as string);
    const tasks = ['generation-sweep', 'reconcile-payments', 'sweep-sessions', 'video-retention'];
    await waitUntil(() => tasks.every((task) => [...leads(first.lines), ...leads(second.lines)].includes(task)), 10_000, 'every task to have a leader');
    for (const task of tasks) {
      expect(leads(first.lines).filter((t) => t === task).length + leads(second.lines).filter((t) => t === task).length).toBe(1);
    }

    // The same name is run by one runner of two; when the leader goes, the other takes over.
    let runs = 0;
    const pass = async () => {
      runs += 1;
    };
    const ran = [await a.exclusive.run('test-task', pass), await b.exclusive.run('test-task', pass), await a.exclusive.run('test-task', pass)];
    expect(ran).toEqual([true, false, true]);
    expect(runs).toBe(2);
    await a.exclusive.close();
    expect(await b.exclusive.run('test-task', pass)).toBe(true);
    expect(runs).toBe(3);
  });
});

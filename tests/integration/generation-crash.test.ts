import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { FAST_MINIMAX } from '../../sandbox/minimax/test-support.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { closeContext, createContext, type AppContext } from '../../src/lib/context.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { s3EnvOf, tempDir, testsUseS3 } from '../helpers/app.ts';
import { storedBytes } from '../helpers/blobs.ts';
import { freePort } from '../helpers/ports.ts';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { FAST_QUEUE_ENV, balanceOf, expectLedgerConsistent, generate, generationRow, ledgerOf, uploadPhoto, waitForStatus, waitUntil } from '../helpers/generation.ts';

/**
 * The built server as a real child process, killed with SIGKILL in the middle of a step and
 * started again on the same database: the generation completes once and is charged once.
 */


let sandbox: Sandbox;
let minimax: MinimaxEmulator;
let dir: string;
let env: Record<string, string>;
let baseUrl: string;
let ctx: AppContext;
let child: ServerProcess | null = null;
/** BEEM_TEST_STORAGE=s3: the processes keep their files in a bucket of this server. */
let s3: TestS3Server | null = null;

async function startServer(): Promise<void> {
  child = await startServerProcess(env);
}

async function killServer(): Promise<void> {
  await child?.stop(); // SIGKILL
  child = null;
}

beforeAll(async () => {
  sandbox = await startSandbox({ minimax: { ...FAST_MINIMAX, render: { ...FAST_MINIMAX.render, ffmpeg: null } } });
  minimax = sandbox.emulator<MinimaxEmulator>('minimax');
  dir = tempDir();
  s3 = testsUseS3() ? await startS3Server() : null;
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  sandbox.setAppUrl(baseUrl);
  env = {
    ...FAST_QUEUE_ENV,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_BASE_URL: baseUrl,
    DATABASE_URL: path.join(dir, 'beem.db'),
    STORAGE_DIR: path.join(dir, 'storage'),
    ...(s3 ? s3EnvOf(s3) : {}),
    SANDBOX_URL: sandbox.url,
    LOG_LEVEL: 'info',
    // Long leases: only the boot sweep (a dead holder on this host) can free the row quickly.
    QUEUE_LEASE_MS: '60000',
  };
  // The test's own view of the same database (users, sessions, assertions); never runs the worker.
  ctx = await createContext(loadConfig(env), { log: createLogger('silent') });
});

afterAll(async () => {
  await killServer();
  await closeContext(ctx);
  await sandbox.close();
  await s3?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startGeneration() {
  const { user, cookie } = await createSignedInUser(ctx, { balance: 2 });
  expect((await uploadPhoto(baseUrl, cookie)).status).toBe(200);
  const res = await generate(baseUrl, cookie, { prompt: 'Наушники на столе, камера облетает их', duration: 6, mode: 'prompt' });
  expect(res.status).toBe(200);
  const { generationId } = (await res.json()) as { generationId: string };
  return { user, cookie, id: generationId };
}

async function expectCompletedOnce(user: { id: string }, cookie: string, id: string) {
  const done = await waitForStatus(baseUrl, cookie, id, ['success', 'failed'], 20_000);
  expect(done).toMatchObject({ status: 'success', charged: true, refunded: false });
  expect((await ledgerOf(ctx, user.id)).filter((l) => l.reference.endsWith(id)).map((l) => [l.kind, l.delta])).toEqual([['hold', -1]]);
  expect(await balanceOf(ctx, user.id)).toBe(1);
  expect(await ctx.db.value('SELECT generation_used FROM users WHERE id = ?', [user.id])).toBe(1);
  const video = await storedBytes(ctx, (await generationRow(ctx, id)).video_path as string);
  expect(video.subarray(4, 8).toString('latin1')).toBe('ftyp');
  await expectLedgerConsistent(ctx);
}

describe('worker killed with SIGKILL and restarted', () => {
  afterEach(async () => {
    await killServer();
  });

  it('resumes a generation killed while submitting to MiniMax', async () => {
    await startServer();
    // The create call hangs (and MiniMax still makes the task, as a real timed-out create may).
    minimax.injectFault({ kind: 'hang', on: 'create', ms: 5000, createTask: true });
    const tasksBefore = minimax.tasks().length;
    const { user, cookie, id } = await startGeneration();
    await waitUntil(() => minimax.tasks().length > tasksBefore, 10_000, 'the create call to reach MiniMax');
    expect(await generationRow(ctx, id)).toMatchObject({ status: 'queued', step: 'submit', minimax_job_id: null });
    await killServer();
    await startServer();
    await expectCompletedOnce(user, cookie, id);
    // The interrupted submission is on record (MiniMax may hold a second task for it).
    expect(await ctx.db.value(`SELECT COUNT(*) FROM generation_events WHERE generationId = ? AND kind = 'resubmit'`, [id])).toBe(1);
    expect(minimax.tasks().length - tasksBefore).toBe(2);
  });

  it('resumes a generation killed while MiniMax is processing it', async () => {
    minimax.configure({ stepMs: { processing: 1500 } });
    await startServer();
    const { user, cookie, id } = await startGeneration();
    await waitUntil(async () => (await generationRow(ctx, id)).status === 'processing', 10_000, 'processing');
    await killServer();
    minimax.configure({ stepMs: { processing: 30 } });
    await startServer();
    await expectCompletedOnce(user, cookie, id);
  });

  it('resumes a generation killed while downloading the video', async () => {
    await startServer();
    minimax.injectFault({ kind: 'slow_download', bytesPerSecond: 4096 });
    const { user, cookie, id } = await startGeneration();
    // On disk, the store's temporary file beside the video (`.<name>.<random>.part`) while it is written.
    const videos = path.join(dir, 'storage', 'users', user.id, 'videos');
    const parts = () => (fs.existsSync(videos) ? fs.readdirSync(videos).filter((name) => name.startsWith(`.${id}.mp4.`) && name.endsWith('.part')) : []);
    const part = () => path.join(videos, parts()[0] ?? 'none');
    if (s3) {
      // Into a bucket the bytes wait in the upload's memory (under one 5 MB part): the CDN took the slow-download fault.
      await waitUntil(() => minimax.state().pendingFaults.length === 0, 15_000, 'the download to start');
    } else {
      await waitUntil(() => fs.existsSync(part()) && fs.statSync(part()).size > 0, 15_000, 'the download to start');
    }
    expect(await generationRow(ctx, id)).toMatchObject({ status: 'processing', step: 'download' });
    await killServer();
    await startServer();
    await expectCompletedOnce(user, cookie, id);
    // On disk, the killed process's partial file was removed when the download was made again
    // (a bucket keeps no part of an upload that never completed a 5 MB part).
    expect(parts()).toEqual([]);
  });
});

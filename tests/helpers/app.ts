import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/lib/config.ts';
import { closeContext, createContext, startBackgroundTasks, stopBackgroundTasks, type AppContext } from '../../src/lib/context.ts';
import { createBareServer, serveApp, type AstroHandler } from '../../src/server/http-server.ts';
import { nodeRoutes } from '../../src/server/routes.ts';
import { createLogger, type Logger } from '../../src/lib/logger.ts';
import type { Clock } from '../../src/lib/clock.ts';
import pg from 'pg';
import type { Database } from '../../src/lib/db/database.ts';
import { openDatabase } from '../../src/lib/db/index.ts';
import { postgresDatabase } from '../../src/lib/db/postgres.ts';
import { createTestDatabase, type TestPostgres } from './postgres.ts';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from './s3-server.ts';

export interface TestApp {
  url: string;
  ctx: AppContext;
  dir: string;
  stop(): Promise<void>;
}

export interface StartAppOptions {
  /** Extra environment on top of a temporary database and storage. */
  env?: Record<string, string>;
  /** Environment that needs the app's own URL (e.g. MINIMAX_CALLBACK_URL). */
  envFromUrl?: (appUrl: string) => Record<string, string>;
  clock?: Clock;
  /** A logger of the test's own (to read what the app logged); silent by default. */
  log?: Logger;
  /** Start the worker and other background tasks (off by default so tests drive them). */
  background?: boolean;
}

/**
 * `BEEM_TEST_DATABASE=postgres` runs the tests that use these helpers on PostgreSQL (a fresh
 * database on the run's test server) instead of a SQLite file: the same tests, the other engine.
 */
export function testsUsePostgres(): boolean {
  const engine = process.env.BEEM_TEST_DATABASE ?? 'sqlite';
  if (engine !== 'sqlite' && engine !== 'postgres') throw new Error(`BEEM_TEST_DATABASE must be sqlite or postgres, not ${engine}`);
  return engine === 'postgres';
}

/**
 * `BEEM_TEST_STORAGE=s3` keeps the files of the apps these helpers start in a bucket (an S3
 * server that checks signatures, one of its own per app) instead of STORAGE_DIR.
 */
export function testsUseS3(): boolean {
  const storage = process.env.BEEM_TEST_STORAGE ?? 'local';
  if (storage !== 'local' && storage !== 's3') throw new Error(`BEEM_TEST_STORAGE must be local or s3, not ${storage}`);
  return storage === 's3';
}

/** The STORAGE=s3 environment of a bucket on a test S3 server. */
export function s3EnvOf(server: Pick<TestS3Server, 'endpoint' | 'region' | 'bucket'>): Record<string, string> {
  return {
    STORAGE: 's3',
    S3_ENDPOINT: server.endpoint,
    S3_REGION: server.region,
    S3_BUCKET: server.bucket,
    S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
}

/** The storage environment of a running app (STORAGE_DIR and, on S3, its bucket), for a second app or process on the same files. */
export function storageEnvOf(ctx: AppContext): Record<string, string> {
  const { storage, paths } = ctx.config;
  if (storage.backend === 'local') return { STORAGE_DIR: paths.storageDir };
  return {
    STORAGE_DIR: paths.storageDir,
    STORAGE: 's3',
    S3_ENDPOINT: storage.s3.endpoint,
    S3_REGION: storage.s3.region,
    S3_BUCKET: storage.s3.bucket,
    S3_ACCESS_KEY_ID: storage.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: ctx.secrets.s3SecretAccessKey,
    S3_FORCE_PATH_STYLE: String(storage.s3.forcePathStyle),
  };
}

/** A temporary directory removed when the test process ends. */
export function tempDir(prefix = 'beem-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts the real server in-process on a random port, with the built Astro handler,
 * a temporary SQLite file (or PostgreSQL database, testsUsePostgres) and storage folder (or
 * bucket, testsUseS3). The context is returned so tests can look at the database and call
 * services directly.
 */
export async function startApp(options: StartAppOptions = {}): Promise<TestApp> {
  const dir = tempDir();
  // Listen first so PUBLIC_BASE_URL (redirect URIs, origin checks) carries the real port.
  const server = createBareServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const postgres: TestPostgres | null = testsUsePostgres() && !options.env?.DATABASE_URL ? await createTestDatabase() : null;
  const s3: TestS3Server | null = testsUseS3() && !options.env?.STORAGE ? await startS3Server() : null;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: postgres?.url ?? path.join(dir, 'beem.db'),
    STORAGE_DIR: path.join(dir, 'storage'),
    ...(s3 ? s3EnvOf(s3) : {}),
    PUBLIC_BASE_URL: url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Alerts are paced 1/s for Telegram; tests should not wait for that on stop.
    TELEGRAM_MIN_INTERVAL_MS: '0',
    // Every test signs in from 127.0.0.1; the per-IP sign-in limit is tested on its own.
    RATE_LIMIT_SIGNIN_PER_MIN: '10000',
    ...options.env,
    ...options.envFromUrl?.(url),
  };
  const loaded = loadConfig(env);
  const ctx = await createContext(loaded, { clock: options.clock, log: options.log ?? createLogger(env.LOG_LEVEL ?? 'silent') });
  const entry = pathToFileURL(path.resolve('dist/server/entry.mjs')).href;
  const { handler } = (await import(entry)) as { handler: AstroHandler };
  serveApp(server, ctx, { astro: handler, clientDir: path.resolve('dist/client'), routes: nodeRoutes });
  if (options.background) startBackgroundTasks(ctx);
  return {
    url,
    ctx,
    dir,
    async stop() {
      await stopBackgroundTasks(ctx);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeContext(ctx);
      await postgres?.drop();
      await s3?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** DATABASE_URL of the app's database, for a second app or process on the same one. */
export function databaseUrlOf(ctx: AppContext): string {
  return ctx.config.database.kind === 'sqlite' ? ctx.config.database.file : ctx.secrets.databaseUrl;
}

/** A connection of its own to the app's database (another process, as far as the engine can tell); the caller ends it. */
export function openSecondConnection(ctx: AppContext): Database {
  const { database } = ctx.config;
  if (database.kind === 'sqlite') return openDatabase(database.file);
  const pool = new pg.Pool({ connectionString: ctx.secrets.databaseUrl, max: 2 });
  pool.on('error', (err) => console.error('second PostgreSQL connection failed while idle', err));
  return postgresDatabase(pool);
}

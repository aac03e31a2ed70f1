import type { Config, Secrets, LoadedConfig } from './config.ts';
import type { Db } from './db/index.ts';
import type { Database } from './db/database.ts';
import { migrated, openAppDatabase, type AppDatabase } from './db/open.ts';
import { createLogger, type Logger } from './logger.ts';
import { systemClock, type Clock } from './clock.ts';
import { OAuthClient } from './providers/oauth/client.ts';
import { RateLimits } from './http/rate-limits.ts';
import { prepareSharedCounters } from './db/shared-counters.ts';
import { postgresPoolOf } from './db/postgres.ts';
import { runsInRole, type TaskPlace } from './roles.ts';
import { createMinimaxClient, type MinimaxClient } from './providers/minimax/client.ts';
import { GenerationWorker } from './generation/worker.ts';
import { PgBossGenerationWorker } from './generation/pg-boss-worker.ts';
import { GenerationJobs } from './generation/generation-jobs.ts';
import { createExclusiveRunner, type ExclusiveRunner } from './db/exclusive.ts';
import { createSessionSweeper } from './auth/session-sweeper.ts';
import { createLlmClient, type LlmClient } from './providers/llm/client.ts';
import { createTelegramClient } from './providers/telegram/client.ts';
import { ALERT_COOLDOWN_MS, createTelegramNotifier } from './notify/telegram-notifier.ts';
import { createSharedCooldown } from './notify/shared-cooldown.ts';
import { createAlertChatCheck, type AlertChatCheck } from './notify/alert-chat.ts';
import type { Notifier } from './notify/types.ts';
import type { BackgroundTask } from './tasks.ts';
import { createPromptEngine } from './prompt/engine.ts';
import type { PromptEngine } from './prompt/types.ts';
import { createYookassaClient, type YookassaClient } from './providers/yookassa/client.ts';
import { createPaymentReconciler } from './billing/reconciler.ts';
import { createMetrics, type AppMetrics } from './metrics/metrics.ts';
import { StatusWatch } from './generation/status-watch.ts';
import { createFfmpeg, type Ffmpeg } from './video/ffmpeg.ts';
import { ExportRunner } from './video/export-runner.ts';
import { createVideoHooks } from './video/worker-hooks.ts';
import { PosterTaker } from './video/posters.ts';
import { createBlobStore, type BlobStore } from './blobs/index.ts';
import { DEFAULT_RETENTION_SETTINGS, RetentionSweeper } from './video/retention-sweeper.ts';


/**
 * The composition root: everything a request or a background task needs, built once.
 * Routes reach it as `Astro.locals.ctx`; tests build their own with overrides
 * (a manual clock, a temporary database, sandbox base URLs through env).
 */
export interface AppContext {
  config: Config;
  secrets: Secrets;
  /** The data seam every service uses: SQLite or PostgreSQL, as `config.database` says. */
  db: Database;
  /** The SQLite connection behind `db`, for what only SQLite has (online backups); null on PostgreSQL. */
  sqlite: Db | null;
  /** Closes `db` (closeContext). */
  database: AppDatabase;
  /** Users' files (photos, frames, videos, posters, exports): `STORAGE_DIR` or a private S3 bucket, as `config.storage` says. */
  blobs: BlobStore;
  log: Logger;
  clock: Clock;
  /** The background tasks this process runs (BEEM_ROLE decides which: roles.ts). */
  tasks: BackgroundTask[];
  /** The sign-in provider (its discovery document is fetched on first use and kept). */
  oauth: OAuthClient;
  /** Per-minute request counters the middleware applies (src/lib/http/rate-limits.ts); shared by all processes on PostgreSQL. */
  rateLimits: RateLimits;
  minimax: MinimaxClient;
  /**
   * Routes call `wake()` after enqueueing or on a MiniMax push, and pass it to `createGeneration`
   * as its queue. In-process on SQLite; pg-boss jobs on PostgreSQL (pg-boss-worker.ts). Started
   * (on `tasks`) unless BEEM_ROLE=web: a web process only sends jobs, a worker process runs them.
   */
  generationWorker: GenerationWorker;
  /** pg-boss on PostgreSQL (stopped by closeContext); null on SQLite. */
  generationJobs: GenerationJobs | null;
  /** Runs periodic housekeeping in one process of several (db/exclusive.ts). */
  exclusive: ExclusiveRunner;
  /** Operator alerts (Telegram); `alert()` never blocks or throws. */
  notifier: Notifier;
  /** Whether TELEGRAM_CHAT_ID names a chat the bot can write to (checked at start and by the test alert). */
  alertChat: AlertChatCheck;
  llm: LlmClient;
  promptEngine: PromptEngine;
  yookassa: YookassaClient;
  /** Prometheus registry of this context (`/metrics`); services report into it through small hooks. */
  metrics: AppMetrics;
  /** Open status streams (`/api/status/stream`); on `tasks` unless BEEM_ROLE=worker, first, so shutdown ends them at once. */
  statusWatch: StatusWatch;
  /** ffmpeg as found at start (`available` false: no exports, posters are the first frame). */
  ffmpeg: Ffmpeg;
  /** On `tasks` unless BEEM_ROLE=web (then `wake()` does nothing, as for the worker); the export routes call `wake()` after asking for an export. */
  exports: ExportRunner;
}

export interface ContextOverrides {
  clock?: Clock;
  log?: Logger;
  /** A database of the caller's instead of the configured one (migrated here, closed by closeContext). */
  db?: Db | Database;
}

/**
 * The configured blob store, checked: on S3 a probe is written, read and deleted, so a wrong
 * endpoint, bucket, key or permission stops the start with the store's answer instead of
 * failing the first seller's upload.
 */
async function openBlobStore(config: Config, secrets: Secrets): Promise<BlobStore> {
  const blobs = createBlobStore(config, secrets);
  if (blobs.kind === 'local') return blobs;
  try {
    await blobs.verify();
  } catch (err) {
    blobs.close();
    const { endpoint, bucket } = config.storage.s3!;
    throw new Error(`STORAGE=s3: bucket ${bucket} at ${endpoint} is not usable: ${(err as Error).message}`, { cause: err });
  }
  return blobs;
}

/** Checks the blob store, opens and migrates the database (hence async), then builds everything on them. */
export async function createContext(loaded: LoadedConfig, overrides: ContextOverrides = {}): Promise<AppContext> {
  const { config, secrets } = loaded;
  const log = overrides.log ?? createLogger(config.log.level);
  const clock = overrides.clock ?? systemClock;
  const opening = { log, now: clock.now() };
  // The store first: a bucket that does not answer creates no database.
  const blobs = await openBlobStore(config, secrets);
  let database: AppDatabase;
  try {
    database = overrides.db ? await migrated(overrides.db, opening) : await openAppDatabase(loaded, opening);
  } catch (err) {
    blobs.close();
    throw err;
  }
  const { db } = database;
  const metrics = createMetrics({ db, clock, cacheMs: config.metrics.cacheMs });

  const telegram = config.telegram.enabled
    ? {
        client: createTelegramClient({
          apiBase: config.telegram.apiBase,
          botToken: secrets.telegramBotToken,
          timeoutMs: config.telegram.timeoutMs,
        }),
        chatId: config.telegram.chatId,
      }
    : null;
  const alertChat = createAlertChatCheck({ telegram, log, clock });
  const sharedPool = postgresPoolOf(db);
  // On PostgreSQL the counters shared by all processes (rate limits, alert cooldown) live in one table.
  if (sharedPool) await prepareSharedCounters(db);
  const notifier = createTelegramNotifier({
    db,
    log,
    clock,
    telegram,
    sharedCooldown: sharedPool ? createSharedCooldown({ pool: sharedPool, cooldownMs: ALERT_COOLDOWN_MS }) : undefined,
    minIntervalMs: config.telegram.minIntervalMs,
    // A failed send is retried once after the same pause that spaces messages.
    retryDelayMs: config.telegram.minIntervalMs,
    onRecorded: (record) => metrics.observeAlert(record),
    onRefused: (err) => alertChat.noteRefusal(err),
  });
  const llm = createLlmClient({
    baseUrl: config.llm.baseUrl,
    apiKey: secrets.openaiApiKey,
    model: config.llm.model,
    jsonMode: config.llm.jsonMode,
    log,
  });
  const promptEngine = createPromptEngine({
    llm,
    notifier,
    log,
    timeouts: {
      enhancerMs: config.llm.enhancerTimeoutMs,
      compilerMs: config.llm.compilerTimeoutMs,
      routerMs: config.llm.routerTimeoutMs,
    },
  });
  const yookassa = createYookassaClient({
    apiBase: config.yookassa.apiBase,
    shopId: config.yookassa.shopId,
    secretKey: secrets.yookassaSecretKey,
    timeoutMs: config.yookassa.timeoutMs,
    maxAttempts: config.yookassa.maxAttempts,
    retryBaseMs: config.yookassa.retryBaseMs,
    retryMaxDelayMs: config.yookassa.retryMaxDelayMs,
    log,
  });

  const minimax = createMinimaxClient({
    apiBase: config.minimax.apiBase,
    apiKey: secrets.minimaxApiKey,
    timeoutMs: config.minimax.requestTimeoutMs,
    onCall: (call) => metrics.observeMinimaxCall(call),
  });
  const ffmpeg = createFfmpeg({ path: config.video.ffmpegPath, concurrency: config.video.exportConcurrency });
  if (!ffmpeg.available) {
    log.warn(
      { mod: 'video', ffmpeg: config.video.ffmpegPath },
      'ffmpeg does not run: marketplace exports are off, posters are the first frame; original videos are still served',
    );
  }
  // Posters have a lane of their own: a delivered video's poster never waits behind exports.
  const posters = new PosterTaker({
    db,
    clock,
    log,
    ffmpeg: createFfmpeg({ path: config.video.ffmpegPath, concurrency: 1, available: ffmpeg.available }),
    blobs,
    settings: { timeoutMs: config.video.posterTimeoutMs, maxPending: 200, catchUpMs: 24 * 60 * 60_000 },
  });
  const video = createVideoHooks({ db, log, blobs, posters });
  const exclusive = createExclusiveRunner(db, log);
  const workerDeps = { db, config, log, clock, minimax, promptEngine, notifier, video, blobs, exclusive };
  let generationJobs: GenerationJobs | null = null;
  try {
    generationJobs = db.dialect === 'postgres' ? await GenerationJobs.start({ db, config, clock, log }) : null;
  } catch (err) {
    await database.close();
    throw err;
  }
  const generationWorker = generationJobs ? new PgBossGenerationWorker(workerDeps, generationJobs) : new GenerationWorker(workerDeps);
  const exports = new ExportRunner({
    db,
    clock,
    log,
    ffmpeg,
    blobs,
    settings: {
      concurrency: config.video.exportConcurrency,
      timeoutMs: config.video.exportTimeoutMs,
      leaseMs: config.video.exportLeaseMs,
      maxAttempts: 3,
      pollMs: 1_000,
    },
  });
  metrics.watchWorker(generationWorker);
  const statusWatch = new StatusWatch({ db, clock, log, limits: config.statusStreams });
  const rateLimits = sharedPool
    ? new RateLimits(config.rateLimits, {
        pool: sharedPool,
        onStoreError: (err) => log.error({ mod: 'rate-limits', err }, 'shared rate limit store failed; counting in this process meanwhile'),
      })
    : new RateLimits(config.rateLimits);

  const ctx: AppContext = {
    config,
    secrets,
    db,
    sqlite: database.sqlite,
    database,
    blobs,
    log,
    clock,
    tasks: [],
    notifier,
    alertChat,
    llm,
    promptEngine,
    yookassa,
    oauth: new OAuthClient(config.auth, secrets.oauthClientSecret, log.child({ mod: 'oauth' })),
    rateLimits,
    minimax,
    generationWorker,
    generationJobs,
    exclusive,
    metrics,
    statusWatch,
    ffmpeg,
    exports,
  };
  // In start (and stop) order. The status streams end first at shutdown; queued alerts are
  // flushed last, after everything that may raise one.
  const placed: Array<[TaskPlace, BackgroundTask]> = [
    ['web', statusWatch],
    ['worker', generationWorker],
    ['worker', posters],
    ['worker', exports],
    ['worker', createPaymentReconciler(ctx, exclusive)],
    ['worker', createSessionSweeper(ctx)],
    // Deletes through the blob store, so expired files go from the local disk or the bucket alike.
    ['worker', new RetentionSweeper({ db, clock, log, blobs, exclusive, settings: { ...DEFAULT_RETENTION_SETTINGS, days: config.video.retentionDays } })],
    ['web', { name: 'sign-in-discovery', start: () => void ctx.oauth.warmUp(), stop: async () => {} }],
    ['both', { name: 'alert-chat-check', start: () => void alertChat.check(), stop: async () => {} }],
    // Both use the model: web for prompt previews, the worker to prepare generations.
    ['both', { name: 'llm-model-check', start: () => void llm.checkModel(), stop: async () => {} }],
    ['both', { name: 'operator-alerts', start() {}, stop: () => notifier.flush() }],
  ];
  ctx.tasks = placed.filter(([place]) => runsInRole(place, config.role)).map(([, task]) => task);
  return ctx;
}

export function startBackgroundTasks(ctx: AppContext): void {
  for (const task of ctx.tasks) {
    task.start();
    ctx.log.info({ mod: 'tasks', task: task.name }, 'background task started');
  }
}

/** Stops tasks in the order they were added, so alerts raised while the worker winds down still get flushed. */
export async function stopBackgroundTasks(ctx: AppContext): Promise<void> {
  for (const task of ctx.tasks) {
    try {
      await task.stop();
    } catch (err) {
      ctx.log.error({ mod: 'tasks', task: task.name, err }, 'background task failed to stop');
    }
  }
}

export async function closeContext(ctx: AppContext): Promise<void> {
  try {
    await ctx.exclusive.close();
    await ctx.generationJobs?.close();
  } finally {
    // The pool closes even when pg-boss could not stop cleanly.
    ctx.blobs.close();
    await ctx.database.close();
  }
}

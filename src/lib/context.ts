import type { Config, Secrets, LoadedConfig } from './config.ts';
import type { Db } from './db/index.ts';
import type { Database } from './db/database.ts';
import { migrated, openAppDatabase, type AppDatabase } from './db/open.ts';
import { createLogger, type Logger } from './logger.ts';
import { systemClock, type Clock } from './clock.ts';
import { OAuthClient } from './providers/oauth/client.ts';
import { RateLimits } from './http/rate-limits.ts';
import { createMinimaxClient, type MinimaxClient } from './providers/minimax/client.ts';
import { GenerationWorker } from './generation/worker.ts';
import { PgBossGenerationWorker } from './generation/pg-boss-worker.ts';
import { GenerationJobs } from './generation/generation-jobs.ts';
import { createExclusiveRunner, type ExclusiveRunner } from './db/exclusive.ts';
import { createSessionSweeper } from './auth/session-sweeper.ts';
import { createLlmClient, type LlmClient } from './providers/llm/client.ts';
import { createTelegramClient } from './providers/telegram/client.ts';
import { createTelegramNotifier } from './notify/telegram-notifier.ts';
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
  log: Logger;
  clock: Clock;
  tasks: BackgroundTask[];
  /** The sign-in provider (its discovery document is fetched on first use and kept). */
  oauth: OAuthClient;
  /** Per-minute request counters the middleware applies (src/lib/http/rate-limits.ts). */
  rateLimits: RateLimits;
  minimax: MinimaxClient;
  /**
   * Also on `tasks`; routes call `wake()` after enqueueing or on a MiniMax push, and pass it to
   * `createGeneration` as its queue. In-process on SQLite; pg-boss jobs on PostgreSQL
   * (pg-boss-worker.ts).
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
  /** Open status streams (`/api/status/stream`); also on `tasks`, first, so shutdown ends them at once. */
  statusWatch: StatusWatch;
  /** ffmpeg as found at start (`available` false: no exports, posters are the first frame). */
  ffmpeg: Ffmpeg;
  /** Also on `tasks`; the export routes call `wake()` after asking for an export. */
  exports: ExportRunner;
}

export interface ContextOverrides {
  clock?: Clock;
  log?: Logger;
  /** A database of the caller's instead of the configured one (migrated here, closed by closeContext). */
  db?: Db | Database;
}

/** Opens and migrates the database (hence async), then builds everything on it. */
export const STORAGE_S3_NOT_YET =
  'STORAGE=s3: this version still keeps photos and videos under STORAGE_DIR (the S3 store is not connected to them yet); unset STORAGE or set STORAGE=local';

export async function createContext(loaded: LoadedConfig, overrides: ContextOverrides = {}): Promise<AppContext> {
  const { config, secrets } = loaded;
  // The S3 store (src/lib/blobs) is built and tested, but uploads, videos, posters and exports
  // still go to STORAGE_DIR: starting with STORAGE=s3 would put a shop's files where the
  // operator did not ask for them, so it is refused until the services use the store.
  if (config.storage.backend === 's3') throw new Error(STORAGE_S3_NOT_YET);
  const log = overrides.log ?? createLogger(config.log.level);
  const clock = overrides.clock ?? systemClock;
  const opening = { log, now: clock.now() };
  const database = overrides.db ? await migrated(overrides.db, opening) : await openAppDatabase(loaded, opening);
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
  const notifier = createTelegramNotifier({
    db,
    log,
    clock,
    telegram,
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
    storageDir: config.paths.storageDir,
    settings: { timeoutMs: config.video.posterTimeoutMs, maxPending: 200, catchUpMs: 24 * 60 * 60_000 },
  });
  const video = createVideoHooks({ db, log, storageDir: config.paths.storageDir, posters });
  const exclusive = createExclusiveRunner(db, log);
  const workerDeps = { db, config, log, clock, minimax, promptEngine, notifier, video, exclusive };
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
    storageDir: config.paths.storageDir,
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

  const ctx: AppContext = {
    config,
    secrets,
    db,
    sqlite: database.sqlite,
    database,
    log,
    clock,
    tasks: [statusWatch, generationWorker, posters, exports],
    notifier,
    alertChat,
    llm,
    promptEngine,
    yookassa,
    oauth: new OAuthClient(config.auth, secrets.oauthClientSecret, log.child({ mod: 'oauth' })),
    rateLimits: new RateLimits(config.rateLimits),
    minimax,
    generationWorker,
    generationJobs,
    exclusive,
    metrics,
    statusWatch,
    ffmpeg,
    exports,
  };
  ctx.tasks.push(createPaymentReconciler(ctx, exclusive));
  ctx.tasks.push(createSessionSweeper(ctx));
  ctx.tasks.push({ name: 'sign-in-discovery', start: () => void ctx.oauth.warmUp(), stop: async () => {} });
  ctx.tasks.push({ name: 'alert-chat-check', start: () => void alertChat.check(), stop: async () => {} });
  ctx.tasks.push({ name: 'llm-model-check', start: () => void llm.checkModel(), stop: async () => {} });
  // Shutdown waits for queued alerts to be delivered and recorded.
  ctx.tasks.push({ name: 'operator-alerts', start() {}, stop: () => notifier.flush() });
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
    await ctx.database.close();
  }
}

import type { Config, Secrets, LoadedConfig } from './config.ts';
import { openDatabase, migrate, type Db } from './db/index.ts';
import { createLogger, type Logger } from './logger.ts';
import { systemClock, type Clock } from './clock.ts';
import { createMinimaxClient, type MinimaxClient } from './providers/minimax/client.ts';
import { GenerationWorker } from './generation/worker.ts';

/** A loop that runs beside the HTTP server (the worker, the poller, reconciliation). */
export interface BackgroundTask {
  name: string;
  start(): void;
  /** Stop taking new work and wait for the current step to finish. */
  stop(): Promise<void>;
}

/**
 * The composition root: everything a request or a background task needs, built once.
 * Routes reach it as `Astro.locals.ctx`; tests build their own with overrides
 * (a manual clock, a temporary database, sandbox base URLs through env).
 */
export interface AppContext {
  config: Config;
  secrets: Secrets;
  db: Db;
  log: Logger;
  clock: Clock;
  tasks: BackgroundTask[];
  minimax: MinimaxClient;
  /** Also on `tasks`; routes call `wake()` after enqueueing or on a MiniMax push. */
  generationWorker: GenerationWorker;
}

export interface ContextOverrides {
  clock?: Clock;
  log?: Logger;
  db?: Db;
}

export function createContext(loaded: LoadedConfig, overrides: ContextOverrides = {}): AppContext {
  const { config, secrets } = loaded;
  const log = overrides.log ?? createLogger(config.log.level);
  const clock = overrides.clock ?? systemClock;
  const db = overrides.db ?? openDatabase(config.paths.databaseFile);
  const ran = migrate(db, undefined, clock.now());
  if (ran.length > 0) log.info({ mod: 'db', migrations: ran }, 'database migrated');

  const ctx: AppContext = { config, secrets, db, log, clock, tasks: [] };
  return ctx;
}

export function startBackgroundTasks(ctx: AppContext): void {
  for (const task of ctx.tasks) {
    task.start();
    ctx.log.info({ mod: 'tasks', task: task.name }, 'background task started');
  }
}

export async function stopBackgroundTasks(ctx: AppContext): Promise<void> {
  await Promise.allSettled(ctx.tasks.map((task) => task.stop()));
}

export function closeContext(ctx: AppContext): void {
  if (ctx.db.open) ctx.db.close();
}

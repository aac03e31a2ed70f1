import type { BackgroundTask } from '../tasks.ts';
import { everyPass, type ExclusiveRunner } from '../db/exclusive.ts';
import type { Database } from '../db/database.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { deleteExpiredSessions } from './sessions.ts';

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Expired sessions are deleted when their cookie comes back; this removes the ones whose
 * cookie never does (closed browsers), at start and hourly, so the table stays small.
 */
export function createSessionSweeper(deps: { db: Database; clock: Clock; log: Logger; exclusive?: ExclusiveRunner }): BackgroundTask {
  const log = deps.log.child({ mod: 'auth', task: 'sweep-sessions' });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const sweep = () => {
    if (running) return;
    const pass = async (): Promise<void> => {
      const removed = await deleteExpiredSessions(deps.db, deps.clock.now());
      if (removed > 0) log.info({ removed }, 'expired sessions removed');
    };
    // One process of several sweeps (db/exclusive.ts).
    running = (deps.exclusive ?? everyPass).run('sweep-sessions', pass)
      .then(() => undefined)
      .catch((err: unknown) => log.error({ err }, 'session sweep failed'))
      .finally(() => {
        running = null;
      });
  };
  return {
    name: 'sweep-sessions',
    start() {
      if (timer) return;
      sweep();
      timer = setInterval(sweep, SWEEP_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      // The database may be closed right after: the pass in flight ends first.
      await running;
    },
  };
}

import type { BackgroundTask } from '../tasks.ts';
import type { Db } from '../db/index.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { deleteExpiredSessions } from './sessions.ts';

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Expired sessions are deleted when their cookie comes back; this removes the ones whose
 * cookie never does (closed browsers), at start and hourly, so the table stays small.
 */
export function createSessionSweeper(deps: { db: Db; clock: Clock; log: Logger }): BackgroundTask {
  const log = deps.log.child({ mod: 'auth', task: 'sweep-sessions' });
  let timer: NodeJS.Timeout | null = null;
  const sweep = () => {
    try {
      const removed = deleteExpiredSessions(deps.db, deps.clock.now());
      if (removed > 0) log.info({ removed }, 'expired sessions removed');
    } catch (err) {
      log.error({ err }, 'session sweep failed');
    }
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
    },
  };
}

/**
 * A loop that runs beside the HTTP server (the worker, the poller, reconciliation). Services
 * return these; the composition root (context.ts) collects, starts and stops them.
 */
export interface BackgroundTask {
  name: string;
  start(): void;
  /** Stop taking new work and wait for the current step to finish. */
  stop(): Promise<void>;
}

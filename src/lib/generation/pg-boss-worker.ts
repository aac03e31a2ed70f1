import { setTimeout as delay } from 'node:timers/promises';
import type { Database } from '../db/database.ts';
import type { GenerationJobs } from './generation-jobs.ts';
import { claimGenerationById, countInFlight, dispatchTargetOf, listDueUnleased, releaseClaim, type Lane, type QueuedGeneration } from './queue.ts';
import { GenerationWorker, type GenerationWorkerDeps } from './worker.ts';

const LANES: readonly Lane[] = ['prepare', 'submit', 'poll', 'download', 'late'];
/** Rows the dispatch repair looks at per pass (oldest due first). */
const REPAIR_BATCH = 200;
/** At most one repair pass a second per process, however many wake-ups arrive. */
const REPAIR_GAP_MS = 1_000;

/**
 * The generation worker on PostgreSQL: the same steps, leases and fenced writes as the
 * in-process worker, but the work arrives as pg-boss jobs (generation-jobs.ts) instead of from a
 * claim loop over the table, so any number of worker processes share it.
 *
 * A job's handler claims its generation by id, runs the step and then sends the job for what
 * comes next (the row's lane and time), before pg-boss completes the job. If the process dies in
 * between, the job expires and is retried, and its retry sends the next job from the row. A
 * generation whose job got lost anyway (a handler that failed past its retries) is found by the
 * dispatch repair: a wake-up and every sweep send a job for each due row nobody holds.
 */
export class PgBossGenerationWorker extends GenerationWorker {
  private repairing: Promise<void> | null = null;
  private repairAgain = false;
  private lastRepairAt = 0;

  constructor(
    deps: GenerationWorkerDeps,
    private readonly jobs: GenerationJobs,
  ) {
    super(deps);
  }

  override start(): void {
    if (this.started) return;
    super.start();
    for (const lane of LANES) void this.takeJobs(lane);
  }

  /** Registers the lane's pg-boss worker; a database that does not answer yet is tried again. */
  private async takeJobs(lane: Lane): Promise<void> {
    while (!this.stopping) {
      try {
        await this.jobs.work(lane, this.slots(lane), (id) => this.handle(lane, id));
        return;
      } catch (err) {
        this.log.error({ err, lane }, 'could not start taking generation jobs; trying again');
        await delay(this.deps.config.queue.sweepIntervalMs);
      }
    }
  }

  /** The job that takes a new generation, sent with the transaction that accepted it. */
  override async enqueue(tx: Database, generationId: string): Promise<void> {
    await this.jobs.dispatch(tx, { id: generationId, lane: 'prepare', at: this.deps.clock.now() });
  }

  /**
   * With a generation (a callback, an operator's requeue): its job is sent, or the one waiting
   * is brought forward when the row is due now. Without one: the dispatch repair, which sends a
   * job for every due generation nobody holds (dropped by pg-boss where one waits already),
   * at most once a second (sooner with a faster sweep interval).
   */
  override wake(generationId?: string): void {
    if (this.stopping) return;
    // Sending a generation's job needs no worker here: a web process (BEEM_ROLE=web, never
    // started) that takes a MiniMax callback brings the poll forward for whichever worker runs it.
    if (generationId) {
      this.dispatchNext(generationId, 0, { advance: true }).catch((err: unknown) => this.log.error({ err, generationId }, 'could not send the job of a generation'));
      return;
    }
    if (!this.started) return;
    if (this.repairing) {
      this.repairAgain = true;
      return;
    }
    const gapMs = Math.min(REPAIR_GAP_MS, this.deps.config.queue.sweepIntervalMs);
    const waitMs = Math.max(0, this.lastRepairAt + gapMs - Date.now());
    this.repairing = delay(waitMs)
      .then(() => {
        this.lastRepairAt = Date.now();
        return this.repair();
      })
      .catch((err: unknown) => this.log.error({ err }, 'dispatch repair failed'))
      .finally(() => {
        this.repairing = null;
        if (this.repairAgain) {
          this.repairAgain = false;
          this.wake();
        }
      });
  }

  override async stop(): Promise<void> {
    this.stopping = true;
    // pg-boss stops fetching now and waits for the handlers; the steps inside them are waited
    // for (and long downloads cut short before the shutdown deadline) by the worker's own stop.
    const handlersDone = this.jobs.stopWorking();
    await super.stop();
    await handlersDone;
    await this.repairing;
  }

  private async repair(): Promise<void> {
    const { db, clock } = this.deps;
    for (const target of await listDueUnleased(db, clock.now(), REPAIR_BATCH)) await this.jobs.dispatch(db, target);
  }

  /** One job: claim the row in this lane if it is due and free, run the step, send the next job. */
  private async handle(lane: Lane, id: string): Promise<void> {
    const { db, clock, config } = this.deps;
    if (this.stopping) return this.dispatchNext(id);
    if (lane === 'submit' && (await countInFlight(db)) + this.running.get('submit')!.size >= config.queue.maxInFlight) {
      // MiniMax has as many tasks as allowed: look again after a poll interval.
      return this.dispatchNext(id, clock.now() + config.queue.pollIntervalMs);
    }
    const claim = await claimGenerationById(db, id, { lane, now: clock.now(), leaseMs: config.queue.leaseMs, workerId: this.workerId });
    if (claim && this.stopping) await releaseClaim(db, claim, clock.now());
    else if (claim) await this.runTracked(lane, claim);
    // Also without a claim: the row may have moved on (a retried job after a crash) or be held
    // by a step of another process, whose lease this job outlives.
    await this.dispatchNext(id);
  }

  /** Runs a claimed step where `stop()` waits for it. Never rejects (runStep settles its own errors). */
  private runTracked(lane: Lane, g: QueuedGeneration): Promise<void> {
    const active = this.running.get(lane)!;
    const run = this.runStep(lane, g).finally(() => active.delete(run));
    active.add(run);
    return run;
  }

  private async dispatchNext(id: string, notBefore = 0, options = { advance: true }): Promise<void> {
    const { db } = this.deps;
    const target = await dispatchTargetOf(db, id);
    if (target) await this.jobs.dispatch(db, { ...target, at: Math.max(target.at, notBefore) }, options);
  }
}

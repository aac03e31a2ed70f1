import type { Database } from '../db/database.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { User } from '../auth/users.ts';
import type { Locale } from '../i18n/index.ts';
import type { BackgroundTask } from '../tasks.ts';
import type { Config } from '../config.ts';
import { getGenerationView, type GenerationView } from './views.ts';

/**
 * Status pushed to watching pages (`GET /api/status/stream`, issue 16 §5), fed from the
 * database so it works whichever process runs the job: the worker may be elsewhere, so no
 * in-process event could be trusted to say that a row changed.
 *
 * One shared ticker for all streams, not a timer per stream: each tick is one batched,
 * primary-key read of `(id, status, updatedAt)` for every watched generation (one per
 * READ_BATCH_MAX of them; a tick still reading when the next is due is not doubled), and a
 * view is built only for a generation whose row changed since its last event or which is queued
 * (its place in line moves when rows ahead of it change, not its own row). A hundred streams
 * watching rendering videos cost one small query a second, not a hundred.
 *
 * Each event's data is `JSON.stringify(getGenerationView(…))` — the body of `/api/status`,
 * built by the same function. An event goes out when the view's row or queue place changed
 * (not for the clock: `elapsedMs` and `etaMs` are counted on by the page between events).
 * A final status is sent and the stream ends. A stream quiet for `heartbeatMs` gets the
 * current view again as its heartbeat: proxies see traffic and do not close it, and the page
 * can tell a live stream from a dead one (EventSource hides comment lines from scripts, so a
 * comment would keep only the proxies happy). The viewer's session is re-checked at each
 * heartbeat. Bounds: streams per user and
 * in all, a lifetime, and a slow reader whose unsent data piles up is cut off (its page
 * falls back to polling).
 */

/** Where a stream writes; the HTTP side (src/server/status-stream-route.ts) formats SSE. */
export interface StatusSink {
  event(data: string): void;
  end(): void;
  /** Bytes written but not yet taken by the client. */
  backlog(): number;
}

export interface WatchRequest {
  generationId: string;
  viewer: User;
  locale: Locale;
  sink: StatusSink;
  /** False once the viewer's session is gone (signed out, blocked, expired). */
  stillSignedIn(): boolean | Promise<boolean>;
}

export type WatchResult =
  | { kind: 'open'; close(): void }
  | { kind: 'not-found' }
  | { kind: 'too-many'; scope: 'user' | 'total' }
  | { kind: 'stopping' };

/** A reader that has not taken this much is too slow to keep. */
export const MAX_BACKLOG_BYTES = 256 * 1024;

/**
 * Ids per row read. The id list is padded with NULLs to one of a few lengths, so the
 * statement cache holds a handful of texts instead of one per number of watched generations.
 */
export const READ_BATCH_MAX = 1024;
const READ_BATCH_SIZES = [16, 128, READ_BATCH_MAX];

type Limits = Config['statusStreams'];

interface Watcher extends WatchRequest {
  openedAt: number;
  lastWriteAt: number;
  lastUpdatedAt: number;
  lastKey: string;
  ended: boolean;
}

const FINAL = new Set(['success', 'failed']);

export interface StatusWatchDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  limits: Limits;
}

export class StatusWatch implements BackgroundTask {
  readonly name = 'status-streams';
  private readonly watchers = new Set<Watcher>();
  private readonly perUser = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** The pass running now; the ticker skips a beat rather than start a second one beside it. */
  private ticking: Promise<void> | null = null;
  private stopping = false;
  private readonly log: Logger;

  constructor(private readonly deps: StatusWatchDeps) {
    this.log = deps.log.child({ mod: 'status-streams' });
  }

  /** Streams open now (the bench and the tests read it). */
  get openCount(): number {
    return this.watchers.size;
  }

  start(): void {
    this.stopping = false;
  }

  /** Ends every stream (their pages fall back to polling), so shutdown never waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of [...this.watchers]) this.end(w);
    await this.ticking;
  }

  /** Opens a stream: the current view is sent at once; a final one ends it straight away. */
  async watch(request: WatchRequest): Promise<WatchResult> {
    if (this.stopping) return { kind: 'stopping' };
    const view = await this.view(request);
    if (this.stopping) return { kind: 'stopping' };
    if (!view) return { kind: 'not-found' };
    if (this.watchers.size >= this.deps.limits.maxOpen) return { kind: 'too-many', scope: 'total' };
    const mine = this.perUser.get(request.viewer.id) ?? 0;
    if (mine >= this.deps.limits.maxPerUser) return { kind: 'too-many', scope: 'user' };

    // Heartbeats and lifetimes are socket time (performance.now), not the app's clock, which
    // tests move by hand: a proxy's idle timeout runs on real time.
    const started = performance.now();
    const w: Watcher = { ...request, openedAt: started, lastWriteAt: started, lastUpdatedAt: -1, lastKey: '', ended: false };
    this.watchers.add(w);
    this.perUser.set(request.viewer.id, mine + 1);
    this.send(w, view);
    if (!w.ended) this.ensureTicking();
    return { kind: 'open', close: () => this.forget(w) };
  }

  private view(w: Pick<WatchRequest, 'generationId' | 'viewer' | 'locale'>): Promise<GenerationView | null> {
    return getGenerationView(this.deps.db, w.generationId, w.viewer, w.locale, this.deps.clock.now());
  }

  private send(w: Watcher, view: GenerationView): void {
    if (w.ended) return;
    w.lastUpdatedAt = view.updatedAt;
    const key = `${view.updatedAt}:${view.queuePosition ?? ''}`;
    if (key !== w.lastKey) {
      w.lastKey = key;
      w.sink.event(JSON.stringify(view));
      w.lastWriteAt = performance.now();
    }
    if (FINAL.has(view.status)) this.end(w);
  }

  /** Sends the view whatever changed (see the heartbeat in the module comment). */
  private heartbeat(w: Watcher, view: GenerationView): void {
    w.lastKey = '';
    this.send(w, view);
  }

  private ensureTicking(): void {
    if (this.timer || this.watchers.size === 0) return;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = this.tick()
        .catch((err: unknown) => this.log.error({ err }, 'status stream pass failed'))
        .finally(() => {
          this.ticking = null;
        });
    }, this.deps.limits.tickMs);
    this.timer.unref();
  }

  /** One pass over every stream open when it starts (one opened meanwhile was just sent its view). */
  private async tick(): Promise<void> {
    if (this.watchers.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    const watching = [...this.watchers];
    let rows: Map<string, { status: string; updatedAt: number }>;
    try {
      rows = await this.readRows(watching);
    } catch (err) {
      // The next tick tries again; the pages keep their last status meanwhile.
      this.log.error({ err }, 'reading watched generations failed');
      return;
    }
    const now = performance.now();
    const { heartbeatMs, maxAgeMs } = this.deps.limits;
    // A stream can end at every await below (its client left, the server stops): `w.ended`
    // is checked after each, so nothing is written to a closed stream.
    for (const w of watching) {
      if (w.ended) continue;
      try {
        const row = rows.get(w.generationId);
        if (!row) {
          this.end(w);
          continue;
        }
        if (row.updatedAt !== w.lastUpdatedAt || row.status === 'queued') {
          const view = await this.view(w);
          if (w.ended) continue;
          if (!view) this.end(w);
          else this.send(w, view);
          if (w.ended) continue;
        }
        if (now - w.openedAt >= maxAgeMs || w.sink.backlog() > MAX_BACKLOG_BYTES) {
          this.end(w);
        } else if (now - w.lastWriteAt >= heartbeatMs) {
          const view = (await w.stillSignedIn()) ? await this.view(w) : null;
          if (w.ended) continue;
          if (!view) this.end(w);
          else this.heartbeat(w, view);
        }
      } catch (err) {
        this.log.error({ err, generationId: w.generationId }, 'status stream failed; closed');
        this.end(w);
      }
    }
  }

  private async readRows(watching: Watcher[]): Promise<Map<string, { status: string; updatedAt: number }>> {
    const ids = [...new Set(watching.map((w) => w.generationId))];
    const rows = new Map<string, { status: string; updatedAt: number }>();
    for (let from = 0; from < ids.length; from += READ_BATCH_MAX) {
      const batch = ids.slice(from, from + READ_BATCH_MAX);
      const size = READ_BATCH_SIZES.find((n) => n >= batch.length)!;
      const params = [...batch, ...Array<null>(size - batch.length).fill(null)];
      const found = await this.deps.db.all<{ id: string; status: string; updatedAt: number }>(
        `SELECT id, status, updatedAt FROM generations WHERE id IN (${params.map(() => '?').join(', ')})`,
        params,
      );
      for (const r of found) rows.set(r.id, r);
    }
    return rows;
  }

  private end(w: Watcher): void {
    if (w.ended) return;
    this.forget(w);
    try {
      w.sink.end();
    } catch (err) {
      this.log.warn({ err }, 'closing a status stream failed');
    }
  }

  /** Drops a stream (it ended, or its client went away). Safe to call twice. */
  private forget(w: Watcher): void {
    if (w.ended) return;
    w.ended = true;
    this.watchers.delete(w);
    const left = (this.perUser.get(w.viewer.id) ?? 1) - 1;
    if (left > 0) this.perUser.set(w.viewer.id, left);
    else this.perUser.delete(w.viewer.id);
  }
}

import http from 'node:http';
import { isMain, runAlone, type Benchmark, type BenchResult } from './lib/report.ts';
import { startBenchServer, waitFor, type BenchServer } from './lib/stack.ts';
import { createBenchUser, openServerDatabase, requestGeneration, uploadPhoto, type BenchUser } from './lib/fixtures.ts';
import { nodeEventSource } from './lib/sse.ts';
import { startPoller, type PollerOptions, type VisibilitySource } from '../src/scripts/poll-schedule.ts';
import { watchStatus, type ConnectivitySource, type StreamSource } from '../src/scripts/status-stream.ts';

/**
 * The status stream (`GET /api/status/stream`, issue 16 §5) against the built server:
 *
 * 1. Status requests one watcher makes for one real generation (the sandbox renders it for
 *    about a minute), three watchers side by side on the same generation: the page's
 *    backed-off poller alone (today), the page's stream watcher, and the stream watcher
 *    whose stream a proxy cuts after its first event (so the rest is the polling fallback).
 * 2. 500 streams held open at once, each by its own user on its own generation: the
 *    server's resident memory against the same server idle just before, within a budget.
 */

const RENDER_MS = 54_000;
const STREAMS = 500;
/** The budget for 500 open streams over the idle server's own memory. */
const STREAMS_BUDGET_MB = 64;

interface View {
  status: string;
  step: string;
}

const visibility: VisibilitySource = { visibilityState: 'visible', addEventListener() {}, removeEventListener() {} };
const connectivity: ConnectivitySource = { addEventListener() {}, removeEventListener() {} };
const isFinal = (view: View) => view.status === 'success' || view.status === 'failed';

/** A watcher's callbacks as the /app page sets them; resolves with its request count at the end. */
function watcherOptions(server: BenchServer, user: BenchUser, id: string, count: () => void, done: (view: View) => void): PollerOptions<View> {
  return {
    fetch: async () => {
      count();
      const res = await fetch(`${server.url}/api/status?generationId=${id}`, { headers: { cookie: user.cookie } });
      return (await res.json()) as View;
    },
    isTransient: () => true,
    phaseOf: (view) => `${view.status}:${view.step}`,
    onAnswer: (view) => {
      if (!isFinal(view)) return false;
      done(view);
      return true;
    },
    onNetworkError() {},
    onError(error) {
      throw error;
    },
    visibility,
  };
}

type Way = 'polling' | 'stream' | 'cut stream';

async function countRequests(server: BenchServer, user: BenchUser, id: string, way: Way): Promise<{ requests: number; status: string }> {
  let requests = 0;
  const count = () => (requests += 1);
  return new Promise((resolve) => {
    const options = watcherOptions(server, user, id, count, (view) => resolve({ requests, status: view.status }));
    if (way === 'polling') {
      startPoller(options);
      return;
    }
    const streamUrl = `${server.url}/api/status/stream?generationId=${id}`;
    watchStatus<View>({
      ...options,
      streamUrl,
      silenceMs: 15_000 * 2 + 5_000,
      connectivity,
      openStream: (url) => {
        const source = nodeEventSource(url, user.cookie, count);
        if (way === 'stream') return source;
        // A proxy that drops the connection after the first event.
        const cut: StreamSource = { onmessage: null, onerror: null, close: () => source.close() };
        source.onmessage = (event) => {
          cut.onmessage?.(event);
          source.close();
          cut.onerror?.(new Error('cut by a proxy'));
        };
        source.onerror = (event) => cut.onerror?.(event);
        return cut;
      },
    });
  });
}

async function requestsPerGeneration(): Promise<BenchResult[]> {
  const server = await startBenchServer({
    env: { POLL_INTERVAL_MS: '1000' },
    minimax: { stepMs: { preparing: 500, queueing: 500, processing: RENDER_MS }, render: { maxShortSide: 120, fps: 12 } },
  });
  try {
    const db = openServerDatabase(server.databaseFile);
    const user = await createBenchUser(db, 10);
    db.close();
    await uploadPhoto(server.url, user);
    const { status, generationId } = await requestGeneration(server.url, user);
    if (status !== 200 || !generationId) throw new Error(`generate answered ${status}`);
    const started = Date.now();
    const [polling, stream, cut] = await Promise.all([
      countRequests(server, user, generationId, 'polling'),
      countRequests(server, user, generationId, 'stream'),
      countRequests(server, user, generationId, 'cut stream'),
    ]);
    const seconds = Math.round((Date.now() - started) / 1000);
    for (const result of [polling, stream, cut]) if (result.status !== 'success') throw new Error(`the generation ended ${result.status}`);
    const baseline = { label: 'today’s poller, same generation', value: polling.requests };
    return [
      {
        bench: 'status-stream',
        figure: `status requests while watching a ${seconds} s generation, by the stream`,
        value: stream.requests,
        unit: 'requests',
        baseline,
        ratio: stream.requests / polling.requests,
        target: 'one or two',
        pass: stream.requests <= 2,
      },
      {
        bench: 'status-stream',
        figure: `the same with the stream cut after its first event (polling fallback)`,
        value: cut.requests,
        unit: 'requests',
        baseline,
        ratio: cut.requests / polling.requests,
        target: '≤ polling + 1',
        pass: cut.requests <= polling.requests + 1,
      },
    ];
  } finally {
    await server.stop();
  }
}

/** Opens one stream and resolves at its first event; the connection stays open. */
function openStream(url: string, cookie: string): Promise<{ events: () => number; ended: () => boolean; close(): void }> {
  return new Promise((resolve, reject) => {
    let events = 0;
    let ended = false;
    const req = http.get(url, { headers: { cookie }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        events += chunk.split('\n\n').length - 1;
        if (events === 1) resolve({ events: () => events, ended: () => ended, close: () => req.destroy() });
      });
      res.on('close', () => (ended = true));
    });
    req.on('error', reject);
  });
}

async function openStreamsMemory(): Promise<BenchResult[]> {
  // Heartbeats every second: the 500 streams are in steady state (each ticked and re-sent) while measured.
  const server = await startBenchServer({ env: { STATUS_STREAM_HEARTBEAT_MS: '1000' } });
  const streams: Array<Awaited<ReturnType<typeof openStream>>> = [];
  try {
    const db = openServerDatabase(server.databaseFile);
    const now = Date.now();
    // Each watcher owns a generation at MiniMax that the worker will not touch during the run.
    const insert = (...values: unknown[]) =>
      db.run(
        `INSERT INTO generations (id, userId, status, step, duration, cost, prompt, generation_mode, next_attempt_at, submittedAt, createdAt, updatedAt)
         VALUES (?, ?, 'processing', 'poll', 6, 1, 'Флакон духов на столе', 'prompt', ?, ?, ?, ?)`,
        values,
      );
    const watchers: Array<{ user: BenchUser; id: string }> = [];
    for (let i = 0; i < STREAMS; i++) {
      const user = await createBenchUser(db, 0);
      const id = `gen_bench_stream_${i}`;
      await insert(id, user.userId, now + 3_600_000, now, now, now);
      watchers.push({ user, id });
    }
    db.close();
    // Warm the server's paths once, then take its idle memory.
    (await openStream(`${server.url}/api/status/stream?generationId=${watchers[0]!.id}`, watchers[0]!.user.cookie)).close();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const idle = server.memory().rss;
    for (let i = 0; i < STREAMS; i += 50) {
      const batch = watchers.slice(i, i + 50);
      streams.push(...(await Promise.all(batch.map((w) => openStream(`${server.url}/api/status/stream?generationId=${w.id}`, w.user.cookie)))));
    }
    // Three heartbeats: every stream has been ticked, re-read and re-sent.
    await waitFor(() => streams.every((s) => s.events() >= 4), 30_000, 'three heartbeats on every stream');
    const held = server.memory().rss;
    const open = streams.filter((s) => !s.ended()).length;
    const extraMb = (held - idle) / 1024 / 1024;
    return [
      {
        bench: 'status-stream',
        figure: `${STREAMS} open status streams: server memory over idle`,
        value: Math.round(extraMb * 10) / 10,
        unit: 'MB',
        baseline: { label: 'idle server RSS, MB', value: Math.round(idle / 1024 / 1024) },
        ratio: held / idle,
        target: `≤ ${STREAMS_BUDGET_MB} MB, all ${STREAMS} open`,
        pass: extraMb <= STREAMS_BUDGET_MB && open === STREAMS,
        note: open === STREAMS ? undefined : `only ${open} of ${STREAMS} streams stayed open`,
      },
    ];
  } finally {
    for (const s of streams) s.close();
    await server.stop();
  }
}

export const statusStreamBenchmark: Benchmark = {
  name: 'status-stream',
  title: 'status by server push: requests per watched generation, 500 open streams',
  async run() {
    return [...(await requestsPerGeneration()), ...(await openStreamsMemory())];
  },
};

if (isMain(import.meta.url)) await runAlone(statusStreamBenchmark);

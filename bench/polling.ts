import { isMain, runAlone, type Benchmark, type BenchResult } from './lib/report.ts';
import { startPoller, type VisibilitySource } from '../src/scripts/poll-schedule.ts';

/**
 * Status requests one browser makes while it watches a generation, with the `/app` page's
 * own poller (src/scripts/poll-schedule.ts, phase = status:step, as the page sets it) run on
 * a virtual clock against generation timelines, compared with the spec's naive polling
 * every second (60 requests for a 60 s generation).
 */

interface Phase {
  status: string;
  step: string;
  seconds: number;
}

/** A typical minute: prompt phases, submission, MiniMax rendering, the download. */
const MINUTE: Phase[] = [
  { status: 'queued', step: 'prepare', seconds: 3 },
  { status: 'queued', step: 'submit', seconds: 1 },
  { status: 'processing', step: 'poll', seconds: 54 },
  { status: 'processing', step: 'download', seconds: 2 },
];
/** A slow one (1080P, a busy MiniMax): five minutes of rendering. */
const FIVE_MINUTES: Phase[] = [
  { status: 'queued', step: 'prepare', seconds: 5 },
  { status: 'queued', step: 'submit', seconds: 2 },
  { status: 'processing', step: 'poll', seconds: 290 },
  { status: 'processing', step: 'download', seconds: 3 },
];

interface Answer {
  status: string;
  step: string;
}

function answerAt(timeline: Phase[], ms: number): Answer {
  let end = 0;
  for (const phase of timeline) {
    end += phase.seconds * 1000;
    if (ms < end) return { status: phase.status, step: phase.step };
  }
  return { status: 'success', step: 'done' };
}

/** Runs the real poller with setTimeout replaced by a virtual clock; returns the requests made. */
async function countRequests(timeline: Phase[]): Promise<number> {
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let now = 0;
  let seq = 0;
  let requests = 0;
  let finished = false;
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  globalThis.setTimeout = ((fn: () => void, ms = 0) => {
    seq += 1;
    timers.set(seq, { at: now + ms, fn });
    return seq;
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout = ((id: number) => {
    timers.delete(id);
  }) as unknown as typeof clearTimeout;
  const visibility: VisibilitySource = { visibilityState: 'visible', addEventListener() {}, removeEventListener() {} };
  try {
    startPoller<Answer>({
      fetch: async () => {
        requests += 1;
        return answerAt(timeline, now);
      },
      isTransient: () => false,
      phaseOf: (answer) => `${answer.status}:${answer.step}`,
      onAnswer: (answer) => {
        finished = answer.status === 'success' || answer.status === 'failed';
        return finished;
      },
      onNetworkError() {},
      onError(error) {
        throw error;
      },
      visibility,
    });
    await settle();
    while (!finished && timers.size > 0) {
      const [id, next] = [...timers.entries()].reduce((a, b) => (b[1].at < a[1].at ? b : a));
      timers.delete(id);
      now = next.at;
      next.fn();
      await settle();
    }
    return requests;
  } finally {
    globalThis.setTimeout = realSetTimeout;
    globalThis.clearTimeout = realClearTimeout;
  }
}

export const pollingBenchmark: Benchmark = {
  name: 'polling',
  title: 'status requests per watched generation',
  async run() {
    const results: BenchResult[] = [];
    for (const [label, timeline] of [
      ['60 s', MINUTE],
      ['5 min', FIVE_MINUTES],
    ] as const) {
      const seconds = timeline.reduce((sum, p) => sum + p.seconds, 0);
      const requests = await countRequests(timeline);
      results.push({
        bench: 'polling',
        figure: `status requests while watching a ${label} generation (the /app poller)`,
        value: requests,
        unit: 'requests',
        baseline: { label: 'spec: every 1 s', value: seconds },
        ratio: requests / seconds,
        target: 'fewer than the spec’s 1 s polling',
        pass: requests < seconds,
      });
    }
    return results;
  },
};

if (isMain(import.meta.url)) await runAlone(pollingBenchmark);

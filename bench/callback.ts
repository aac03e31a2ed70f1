import { isMain, runAlone, type Benchmark } from './lib/report.ts';
import { backgroundLoad, percentile, timedRequest } from './lib/load.ts';
import { startWatchedGeneration } from './lib/watched.ts';

/**
 * MiniMax verifies a callback URL by posting a challenge it must get back within 3 s. The
 * echo is timed one request after another while 50 connections hammer `/api/status`, and
 * compared with the same echo on an idle server.
 */
async function challengeLatencies(url: string, untilMs: number, gapMs: number): Promise<number[]> {
  const times: number[] = [];
  let n = 0;
  while (performance.now() < untilMs) {
    const challenge = `bench-challenge-${n++}`;
    const answer = await timedRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ challenge }),
    });
    if (answer.status !== 200 || JSON.parse(answer.body).challenge !== challenge) {
      throw new Error(`challenge not echoed: ${answer.status} ${answer.body}`);
    }
    times.push(answer.ms);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return times;
}

export const callbackBenchmark: Benchmark = {
  name: 'callback',
  title: '/minimax_callback challenge under status load',
  async run(options) {
    const watched = await startWatchedGeneration();
    try {
      const callbackUrl = `${watched.server.url}/minimax_callback`;
      await challengeLatencies(callbackUrl, performance.now() + 500, 5); // warm-up
      const idle = await challengeLatencies(callbackUrl, performance.now() + 2_000, 10);
      const load = backgroundLoad({ url: watched.statusUrl, seconds: options.loadSeconds + 2, headers: { cookie: watched.user.cookie } });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const loaded = await challengeLatencies(callbackUrl, performance.now() + options.loadSeconds * 1000, 10);
      const statusRun = await load;
      const p99 = percentile(loaded, 99);
      const idleP99 = percentile(idle, 99);
      return [
        {
          bench: 'callback',
          figure: `challenge echo p99 under status load (${loaded.length} echoes, ${Math.round(statusRun.rps)} status req/s)`,
          value: p99,
          unit: 'ms',
          baseline: { label: 'idle p99 ms', value: idleP99 },
          ratio: idleP99 > 0 ? p99 / idleP99 : null,
          target: '≤ 50 ms (MiniMax allows 3 s)',
          timing: true,
          pass: p99 <= 50,
        },
      ];
    } finally {
      await watched.stop();
    }
  },
};

if (isMain(import.meta.url)) await runAlone(callbackBenchmark);

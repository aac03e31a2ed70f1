import { isMain, runAlone, type Benchmark, type BenchResult } from './lib/report.ts';
import { measureLoad, startBareJsonServer } from './lib/load.ts';
import { startWatchedGeneration } from './lib/watched.ts';

/**
 * `GET /api/status` for a signed-in user (session lookup, the owner check, one row read and
 * the JSON view) against a bare node:http server answering a JSON body of the same size,
 * both at 50 connections for the same time.
 */
export const statusBenchmark: Benchmark = {
  name: 'status',
  title: 'GET /api/status under load',
  async run(options) {
    const watched = await startWatchedGeneration();
    try {
      const sample = await fetch(watched.statusUrl, { headers: { cookie: watched.user.cookie } });
      const bodyBytes = (await sample.text()).length;
      if (!sample.ok) throw new Error(`status answered ${sample.status}`);

      const bare = await startBareJsonServer(bodyBytes);
      const baseline = await measureLoad({ url: bare.url, seconds: options.loadSeconds }).finally(() => bare.stop());
      const status = await measureLoad({ url: watched.statusUrl, seconds: options.loadSeconds, headers: { cookie: watched.user.cookie } });
      if (status.non2xx > 0 || status.errors > 0) throw new Error(`status load had ${status.non2xx} non-2xx answers and ${status.errors} errors`);
      options.shared.set('status.rps', status.rps);

      const ratio = status.rps / baseline.rps;
      const results: BenchResult[] = [
        {
          bench: 'status',
          figure: 'GET /api/status requests/s (50 connections)',
          value: status.rps,
          unit: 'req/s',
          baseline: { label: 'bare node:http JSON', value: baseline.rps },
          ratio,
          target: '≥ 0.15 × baseline',
          pass: ratio >= 0.15,
        },
        {
          bench: 'status',
          figure: 'GET /api/status p99 latency',
          value: status.p99,
          unit: 'ms',
          baseline: { label: 'bare p99 ms', value: baseline.p99 },
          ratio: baseline.p99 > 0 ? status.p99 / baseline.p99 : null,
          target: '≤ 100 ms',
          timing: true,
          pass: status.p99 <= 100,
        },
      ];
      return results;
    } finally {
      await watched.stop();
    }
  },
};

if (isMain(import.meta.url)) await runAlone(statusBenchmark);

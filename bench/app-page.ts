import { isMain, runAlone, type Benchmark } from './lib/report.ts';
import { measureLoad } from './lib/load.ts';
import { startWatchedGeneration } from './lib/watched.ts';

/**
 * The `/app` page (server-rendered HTML) for a signed-in user whose generation is in
 * progress, against the status endpoint's rate from the same run; and, to tell the page's own
 * cost from the framework's, against an Astro JSON route and the smallest page on the same
 * layout (the signed-in 404 page: header, footer, message catalogue, nothing else).
 */
export const appPageBenchmark: Benchmark = {
  name: 'app',
  title: '/app page under load',
  async run(options) {
    const watched = await startWatchedGeneration();
    try {
      const headers = { cookie: watched.user.cookie };
      const probe = await fetch(`${watched.server.url}/app`, { headers, redirect: 'manual' });
      await probe.arrayBuffer();
      if (probe.status !== 200) {
        return [
          {
            bench: 'app',
            figure: 'GET /app requests/s (50 connections)',
            value: NaN,
            unit: 'req/s',
            baseline: null,
            ratio: null,
            target: '≥ 0.6 × status rate',
            pass: null,
            note: `not measured: GET /app answers ${probe.status} in this build (no /app page yet)`,
          },
        ];
      }
      let statusRps = options.shared.get('status.rps');
      if (statusRps === undefined) {
        statusRps = (await measureLoad({ url: watched.statusUrl, seconds: options.loadSeconds, headers })).rps;
        options.shared.set('status.rps', statusRps);
      }
      const page = await measureLoad({ url: `${watched.server.url}/app`, seconds: options.loadSeconds, headers });
      if (page.non2xx > 0 || page.errors > 0) throw new Error(`/app load had ${page.non2xx} non-2xx answers and ${page.errors} errors`);
      // The same status request with an Origin header goes through Astro and its middleware:
      // the floor any server-rendered page shares, to tell page cost from framework cost.
      const astroStatus = await measureLoad({ url: watched.statusUrl, seconds: options.loadSeconds, headers: { ...headers, origin: watched.server.url } });
      const layoutPage = await measureLoad({ url: `${watched.server.url}/no-such-page`, seconds: options.loadSeconds, headers });
      const ratio = page.rps / statusRps;
      return [
        {
          bench: 'app',
          figure: 'GET /app requests/s (50 connections)',
          value: page.rps,
          unit: 'req/s',
          baseline: { label: 'GET /api/status req/s', value: statusRps },
          ratio,
          target: '≥ 0.6 × status rate',
          pass: ratio >= 0.6,
        },
        {
          bench: 'app',
          figure: 'GET /app requests/s against an Astro JSON route (status with Origin)',
          value: page.rps,
          unit: 'req/s',
          baseline: { label: 'GET /api/status through Astro req/s', value: astroStatus.rps },
          ratio: page.rps / astroStatus.rps,
          target: 'reported',
          pass: null,
        },
        {
          bench: 'app',
          figure: 'GET /app requests/s against the smallest page on its layout (signed-in 404)',
          value: page.rps,
          unit: 'req/s',
          baseline: { label: 'GET /no-such-page (404 page) req/s', value: layoutPage.rps },
          ratio: page.rps / layoutPage.rps,
          target: 'reported',
          pass: null,
        },
        {
          bench: 'app',
          figure: 'smallest page on the layout (signed-in 404) requests/s: the ceiling for any page',
          value: layoutPage.rps,
          unit: 'req/s',
          baseline: { label: 'GET /api/status req/s', value: statusRps },
          ratio: layoutPage.rps / statusRps,
          target: 'reported',
          pass: null,
        },
        {
          bench: 'app',
          figure: 'GET /app p99 latency',
          value: page.p99,
          unit: 'ms',
          baseline: null,
          ratio: null,
          target: '≤ 200 ms',
          timing: true,
          pass: page.p99 <= 200,
        },
      ];
    } finally {
      await watched.stop();
    }
  },
};

if (isMain(import.meta.url)) await runAlone(appPageBenchmark);

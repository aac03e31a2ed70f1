import type { NodeRoute } from './http-server.ts';
import { generationRoutes } from './generation-routes.ts';
import { metricsRoute } from './metrics-route.ts';
import { statusRoute } from './status-route.ts';
import { statusStreamRoute } from './status-stream-route.ts';
import { videoMediaRoutes } from './video-routes.ts';

/** Routes the node server answers itself, before Astro (large files, hot polling, status streams, metrics). */
export const nodeRoutes: NodeRoute[] = [statusRoute, statusStreamRoute, metricsRoute, ...generationRoutes, ...videoMediaRoutes];

/** What a worker process (BEEM_ROLE=worker) answers besides `/healthz`: no pages, no APIs. */
export const workerNodeRoutes: NodeRoute[] = [metricsRoute];

import type { NodeRoute } from './http-server.ts';
import { generationRoutes } from './generation-routes.ts';
import { metricsRoute } from './metrics-route.ts';

/** Routes the node server answers itself, before Astro (large files, metrics). */
export const nodeRoutes: NodeRoute[] = [metricsRoute, ...generationRoutes];

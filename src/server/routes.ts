import type { NodeRoute } from './http-server.ts';
import { generationRoutes } from './generation-routes.ts';

/** Routes the node server answers itself, before Astro (large files, metrics). */
export const nodeRoutes: NodeRoute[] = [...generationRoutes];

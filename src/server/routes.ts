import type { NodeRoute } from './http-server.ts';

/** Routes the node server answers itself, before Astro (large files, metrics). */
export const nodeRoutes: NodeRoute[] = [];

// @ts-check
import { defineConfig } from 'astro/config';
import node from '@astrojs/node';
import tailwindcss from '@tailwindcss/vite';

// Astro renders pages and API routes only; src/server/main.ts owns the HTTP server
// (static files, video streaming, the worker) and hands other requests to Astro.
export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'middleware' }),
  // Origin checks are done for every state-changing request in src/middleware.ts
  // (Astro's own check covers only form content types).
  security: { checkOrigin: false },
  server: { port: Number(process.env.PORT ?? 3000) },
  vite: {
    plugins: [tailwindcss()],
  },
});

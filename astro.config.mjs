// @ts-check
import { defineConfig, passthroughImageService } from 'astro/config';
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
  // Astro 7 strips whitespace by JSX rules by default, which glues words around inline
  // elements in the Russian copy («Осталось <b>3</b> кредита»). Keep HTML-aware compression.
  compressHTML: true,
  server: { port: Number(process.env.PORT ?? 3000) },
  // Beem transforms no images through Astro. Its `/_image` endpoint (always present in a
  // server build) resized any local image on request, an easy way to exhaust memory: the
  // service does nothing here, and the node server answers 404 on that path before Astro.
  image: { service: passthroughImageService() },
  vite: {
    plugins: [tailwindcss()],
    build: {
      // Astro inlines small page scripts; inline scripts would need per-page CSP hashes
      // (the HTML read whole on every request). Scripts are always files, so the policy is
      // a fixed `script-src 'self'`. Other assets keep Vite's default 4 kB rule.
      assetsInlineLimit: (file) => (file.endsWith('.js') ? false : undefined),
    },
  },
});

// Bundles the server entry, the operator CLI and the shop-move commands (our TypeScript) next to Astro's build.
// Packages stay external: they are installed in node_modules at run time.
import { build } from 'esbuild';

await build({
  entryPoints: { main: 'src/server/main.ts', cli: 'src/server/cli.ts', move: 'src/server/move.ts' },
  outdir: 'dist/server',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  loader: { '.sql': 'text' },
  plugins: [
    {
      // Vite's `?raw` imports (used for SQL migrations) as plain text.
      name: 'raw-suffix',
      setup(b) {
        b.onResolve({ filter: /\?raw$/ }, async (args) => {
          const resolved = await b.resolve(args.path.replace(/\?raw$/, ''), {
            resolveDir: args.resolveDir,
            kind: args.kind,
          });
          return { path: resolved.path, namespace: 'file' };
        });
      },
    },
  ],
  logLevel: 'warning',
});

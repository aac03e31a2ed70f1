import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { closeContext, createContext, startBackgroundTasks, stopBackgroundTasks } from '../lib/context.ts';
import { createServer, type AstroHandler } from './http-server.ts';
import { nodeRoutes } from './routes.ts';

/**
 * Production entry (`npm start` → dist/server/main.mjs): builds the context, serves HTTP,
 * starts background tasks at boot, and on SIGTERM stops taking work, lets in-flight steps
 * finish, and exits within SHUTDOWN_TIMEOUT_MS.
 */
async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const ctx = await createContext(loaded);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const astroEntry = path.join(here, 'entry.mjs');
  const { handler } = (await import(astroEntry)) as { handler: AstroHandler };

  const server = createServer(ctx, {
    astro: handler,
    clientDir: path.join(here, '..', 'client'),
    routes: nodeRoutes,
  });
  const { host, port } = ctx.config.server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.error(`Port ${port} on ${host} is taken by another program: stop it, or set PORT to another port.`);
    await closeContext(ctx);
    process.exit(1);
  }
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  ctx.log.info({ host, port: actualPort, env: ctx.config.env }, `Beem is listening on http://${host}:${actualPort}`);
  startBackgroundTasks(ctx);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      ctx.log.error('shutdown timed out, exiting');
      process.exit(1);
    }, ctx.config.server.shutdownTimeoutMs);
    force.unref();
    server.close();
    server.closeIdleConnections();
    await stopBackgroundTasks(ctx);
    server.closeAllConnections();
    await closeContext(ctx);
    ctx.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

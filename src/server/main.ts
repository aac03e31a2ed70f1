import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { closeContext, createContext, startBackgroundTasks, stopBackgroundTasks, type AppContext } from '../lib/context.ts';
import { createServer, type AstroHandler, type ServerOptions } from './http-server.ts';
import { nodeRoutes, workerNodeRoutes } from './routes.ts';

/** A worker process serves no pages (the Astro handler is not even loaded); everything else serves them all. */
async function serverOptions(ctx: AppContext): Promise<ServerOptions> {
  if (ctx.config.role === 'worker') return { routes: workerNodeRoutes };
  const here = path.dirname(fileURLToPath(import.meta.url));
  const astroEntry = path.join(here, 'entry.mjs');
  const { handler } = (await import(astroEntry)) as { handler: AstroHandler };
  return { astro: handler, clientDir: path.join(here, '..', 'client'), routes: nodeRoutes };
}

/**
 * Production entry (`npm start` → dist/server/main.mjs): builds the context, serves HTTP,
 * starts background tasks at boot, and on SIGTERM stops taking work, lets in-flight steps
 * finish, and exits within SHUTDOWN_TIMEOUT_MS. BEEM_ROLE picks the tasks (context.ts) and
 * what HTTP serves: a worker answers only `/healthz` and `/metrics` on its PORT.
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
  const server = createServer(ctx, await serverOptions(ctx));
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
  const role = ctx.config.role;
  ctx.log.info(
    { host, port: actualPort, env: ctx.config.env, role },
    role === 'worker'
      ? `Beem worker is listening on http://${host}:${actualPort} (health and metrics only)`
      : `Beem is listening on http://${host}:${actualPort}`,
  );
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

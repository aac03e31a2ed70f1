import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { readJsonBody, sendJson, type Emulator, type SandboxRequest } from './core.ts';
import type { SandboxTls } from './tls.ts';

/**
 * One HTTP server for all emulators, each under a fixed prefix, plus `/_sandbox`:
 *   GET  /_sandbox/state                 → every emulator's state
 *   GET  /_sandbox/<name>/state          → one emulator's state
 *   POST /_sandbox/<name>/faults         → inject faults (body is emulator-specific)
 *   POST /_sandbox/reset                 → forget all state and faults
 * and request counts per emulator. Production code never imports this folder.
 *
 * With a certificate (`tls`) the same port also speaks https: the first byte of a connection
 * tells a TLS handshake (0x16) from plain HTTP. MiniMax file downloads use it, so they are
 * https as in production while every API keeps its http base URL.
 */

export interface SandboxServer {
  url: string;
  /** The same port over https when the sandbox has a certificate; else the same as `url`. */
  secureUrl: string;
  port: number;
  emulators: Map<string, Emulator>;
  requestCounts: Record<string, number>;
  close(): Promise<void>;
}

export async function serveEmulators(
  emulators: Record<string, Emulator>,
  options: { port?: number; host?: string; tls?: SandboxTls | null } = {},
): Promise<SandboxServer> {
  const byName = new Map(Object.entries(emulators));
  const requestCounts: Record<string, number> = {};

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    try {
      if (url.pathname.startsWith('/_sandbox')) {
        await control(url, method, req, res);
        return;
      }
      for (const [name, emulator] of byName) {
        if (url.pathname === emulator.prefix || url.pathname.startsWith(`${emulator.prefix}/`)) {
          requestCounts[name] = (requestCounts[name] ?? 0) + 1;
          const r: SandboxRequest = { req, res, url, method, path: url.pathname.slice(emulator.prefix.length) || '/' };
          if (await emulator.handle(r)) return;
          break;
        }
      }
      if (url.pathname === '/') {
        sendJson(res, 200, { sandbox: true, emulators: [...byName.values()].map((e) => e.prefix) });
        return;
      }
      sendJson(res, 404, { error: 'not found in sandbox', path: url.pathname });
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    }
  };
  const plain = http.createServer(handler);
  const secure = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : null;
  const sockets = new Set<net.Socket>();
  const server = secure
    ? net.createServer((socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.once('data', (first: Buffer) => {
          socket.pause();
          socket.unshift(first);
          (first[0] === 0x16 ? secure : plain).emit('connection', socket);
          process.nextTick(() => socket.resume());
        });
      })
    : plain;

  async function control(url: URL, method: string, req: http.IncomingMessage, res: http.ServerResponse) {
    const parts = url.pathname.split('/').filter(Boolean); // ['_sandbox', name?, action?]
    if (parts.length === 2 && parts[1] === 'state' && method === 'GET') {
      const state: Record<string, unknown> = { requestCounts };
      for (const [name, e] of byName) state[name] = e.state();
      sendJson(res, 200, state);
      return;
    }
    if (parts.length === 2 && parts[1] === 'reset' && method === 'POST') {
      for (const e of byName.values()) e.reset();
      for (const key of Object.keys(requestCounts)) delete requestCounts[key];
      sendJson(res, 200, { ok: true });
      return;
    }
    const emulator = parts[1] ? byName.get(parts[1]) : undefined;
    if (!emulator) {
      sendJson(res, 404, { error: `unknown emulator ${parts[1] ?? ''}` });
      return;
    }
    if (parts[2] === 'state' && method === 'GET') {
      sendJson(res, 200, emulator.state());
      return;
    }
    if (parts[2] === 'faults' && method === 'POST') {
      let result: void | Record<string, unknown>;
      try {
        result = await emulator.injectFault(await readJsonBody(req));
      } catch (err) {
        sendJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
        return;
      }
      sendJson(res, 200, { ok: true, ...result });
      return;
    }
    if (parts[2] === 'reset' && method === 'POST') {
      emulator.reset();
      sendJson(res, 200, { ok: true });
      return;
    }
    sendJson(res, 404, { error: 'unknown control path' });
  }

  // A listen error (EADDRINUSE…) rejects, so the caller can say which port is taken.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    secureUrl: `${secure ? 'https' : 'http'}://${host}:${port}`,
    port,
    emulators: byName,
    requestCounts,
    async close() {
      for (const e of byName.values()) await e.close?.();
      plain.closeAllConnections();
      secure?.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

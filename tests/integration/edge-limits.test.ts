import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.ts';
import { productionEnv, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { closeContext, createContext } from '../../src/lib/context.ts';
import { createLogger } from '../../src/lib/logger.ts';

/**
 * Limits at the edge, on the built server in production mode as a real process: bodies
 * are refused before they are buffered (the server's memory barely moves under 64 MB
 * bodies), slow clients are cut off, and every answer carries the transport headers.
 */

const MB = 1024 * 1024;
const BIG = 64 * MB;

/** One route of each kind: JSON API, form, generation, webhooks, admin action, upload. */
const ROUTES = [
  '/api/locale',
  '/auth/login',
  '/api/generate',
  '/api/payments/yookassa/webhook',
  '/minimax_callback',
  '/api/admin/users/usr_x/balance',
  '/api/upload-image',
];

let server: ServerProcess;
let dir: string;
/** A seller's session in the server's database, so the upload route reads its body. */
let cookie: string;
beforeAll(async () => {
  dir = tempDir();
  const env = { ...productionEnv(dir), REQUEST_BODY_TIMEOUT_MS: '700', SERVER_HEADERS_TIMEOUT_MS: '1000', SERVER_REQUEST_TIMEOUT_MS: '4000' };
  server = await startServerProcess(env);
  const ctx = await createContext(loadConfig(env), { log: createLogger('silent') });
  cookie = (await createSignedInUser(ctx)).cookie;
  await closeContext(ctx);
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function residentBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/**
 * Sends up to `size` bytes (declared or chunked) over a plain socket, as curl does, and
 * resolves with the status as soon as an answer arrives; stops sending then.
 */
function sendLargeBody(path: string, options: { size: number; chunked: boolean }): Promise<number> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    let answered = false;
    socket.on('data', (data) => {
      answer += data.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status && !answered) {
        answered = true;
        resolve(Number(status[1]));
        socket.destroy();
      }
    });
    socket.on('error', (err) => {
      if (!answered) reject(err);
    });
    socket.on('close', () => {
      if (!answered) reject(new Error(`closed without an answer: ${JSON.stringify(answer)}`));
    });
    const length = options.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${options.size}`;
    const head = [`POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, `Origin: ${server.url}`, `Cookie: ${cookie}`, `Content-Type: ${path === '/api/upload-image' ? 'multipart/form-data; boundary=b' : 'application/json'}`, length];
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
    const data = Buffer.alloc(64 * 1024, 0x61);
    const chunk = options.chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data;
    let sent = 0;
    const pump = () => {
      while (!answered && sent < options.size) {
        sent += data.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

describe('request bodies', () => {
  it('refuses a declared 64 MB body on every kind of route at once, with 413', async () => {
    for (const path of ROUTES) {
      expect(await sendLargeBody(path, { size: BIG, chunked: false }), path).toBe(413);
    }
  });

  it('cuts a chunked body off once it passes the limit, and memory barely moves', async () => {
    // Warm up first: the first request to a route loads its code, which is not what is measured.
    for (const path of ROUTES) await sendLargeBody(path, { size: 1 * MB, chunked: true });
    const before = residentBytes(server.child.pid!);
    for (const path of ROUTES.filter((p) => p !== '/api/upload-image')) {
      expect(await sendLargeBody(path, { size: BIG, chunked: true }), path).toBe(413);
    }
    // Three at once, as in the review (it reached 2.1 GB then).
    const parallel = await Promise.all([0, 1, 2].map(() => sendLargeBody('/api/locale', { size: BIG, chunked: true })));
    expect(parallel).toEqual([413, 413, 413]);
    const grown = residentBytes(server.child.pid!) - before;
    expect(grown, `resident memory grew by ${(grown / MB).toFixed(1)} MB`).toBeLessThan(16 * MB);
  });

  it('holds at most the photo allowance of an upload that never ends, and never more with each one', async () => {
    // A photo may be 10 MB, so up to that much is read before the upload is refused; the
    // first attempt sets that high-water mark, and further ones must not add to it. Refused
    // bodies are freed only when V8 collects, which on a busy machine can lag two or three
    // attempts behind (Node 24 seen at +19.5 MB after four): eight attempts under 32 MB still
    // catch any body kept per attempt (8 × 10 MB), without measuring the collector's timing.
    expect(await sendLargeBody('/api/upload-image', { size: BIG, chunked: true })).toBe(413);
    const before = residentBytes(server.child.pid!);
    for (let i = 0; i < 8; i += 1) expect(await sendLargeBody('/api/upload-image', { size: BIG, chunked: true })).toBe(413);
    const grown = residentBytes(server.child.pid!) - before;
    expect(grown, `resident memory grew by ${(grown / MB).toFixed(1)} MB`).toBeLessThan(32 * MB);
  });

  it('answers a 413 in the visitor language with the security headers', async () => {
    const res = await rawRequest(server.url, { method: 'POST', path: '/api/locale', headers: { origin: server.url, 'content-type': 'application/json' }, body: 'x'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ success: false, code: 'BODY_TOO_LARGE', error: expect.stringMatching(/Запрос слишком большой/) });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('slow clients', () => {
  /** Opens a socket, sends `head`, then one byte every 200 ms; resolves with what came back once the server closes it. */
  function trickle(head: string): Promise<{ answer: string; ms: number }> {
    const { hostname, port } = new URL(server.url);
    const started = Date.now();
    return new Promise((resolve) => {
      const socket = net.connect(Number(port), hostname);
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('error', () => {});
      socket.write(head);
      const timer = setInterval(() => socket.write('a'), 200);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ answer, ms: Date.now() - started });
      });
    });
  }

  it('cuts off a JSON body that trickles in, with 408', async () => {
    const { answer } = await trickle(`POST /api/locale HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('REQUEST_TIMEOUT');
  });

  it('closes every one of 50 sockets whose headers never end', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => trickle(`GET /?n=${i} HTTP/1.1\r\nHost: x\r\nX-Slow: `)));
    // Each was closed by the server (the promise resolves only on close), none was served.
    for (const { answer } of results) expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
  });

  it('closes an upload that is still arriving at the whole-request deadline', async () => {
    const { answer } = await trickle(
      `POST /api/upload-image HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000000\r\n\r\n`,
    );
    expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('production headers', () => {
  it('sends HSTS for a year and charset on HTML, on pages and node routes alike', async () => {
    for (const path of ['/', '/healthz', '/favicon.svg', '/api/me', '/nope']) {
      const res = await rawRequest(server.url, { path });
      const hsts = res.headers['strict-transport-security'] ?? '';
      expect(Number(/max-age=(\d+)/.exec(hsts)?.[1]), path).toBeGreaterThanOrEqual(31_536_000);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
    }
    expect((await rawRequest(server.url, { path: '/' })).headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('answers TRACE with 405 and logs nothing outside the JSON logger', async () => {
    const res = await rawRequest(server.url, { method: 'TRACE', path: '/' });
    expect(res.status).toBe(405);
    expect(res.headers['strict-transport-security']).toBeDefined();
    for (const line of server.output().split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  });
});

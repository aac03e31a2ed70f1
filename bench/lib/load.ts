import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { freePort } from './stack.ts';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
}

export interface LoadOptions {
  url: string;
  seconds: number;
  connections?: number;
  headers?: Record<string, string>;
}

/** A short warm-up (JIT, caches, connection setup), then the measured run. */
export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const base = { url: options.url, connections: options.connections ?? 50, headers: options.headers, timeout: 10 };
  await autocannon({ ...base, duration: 1 });
  const result = await autocannon({ ...base, duration: options.seconds });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
  };
}

/**
 * The baseline for request rates: a bare `node:http` server answering a fixed JSON body
 * of about the status response's size, in its own process like the real server.
 */
export async function startBareJsonServer(bodyBytes: number): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const script = `
    const http = require('node:http');
    const body = JSON.stringify({ success: true, padding: 'x'.repeat(${Math.max(0, bodyBytes - 40)}) });
    http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
    }).listen(${port}, '127.0.0.1', () => process.send && process.send('ready'));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`baseline server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One request's time to the complete answer, in ms. */
export function timedRequest(url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<{ ms: number; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method: init.method, headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Load from a separate process (autocannon's CLI), so a benchmark that times single
 * requests meanwhile measures the server, not its own busy event loop.
 */
export function backgroundLoad(options: LoadOptions): Promise<LoadResult> {
  const cli = path.resolve('node_modules/autocannon/autocannon.js');
  const args = [cli, '-j', '-n', '-c', String(options.connections ?? 50), '-d', String(options.seconds)];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  args.push(options.url);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      try {
        const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          requests: { average: number; total: number };
          latency: { p50: number; p99: number };
          errors: number;
          timeouts: number;
          non2xx: number;
        };
        resolve({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          requests: result.requests.total,
        });
      } catch (err) {
        reject(new Error(`autocannon exited with ${code} and no JSON result`, { cause: err }));
      }
    });
  });
}

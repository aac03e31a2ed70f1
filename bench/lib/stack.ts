import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Database } from '../../src/lib/db/database.ts';
import { openDatabase } from '../../src/lib/db/index.ts';
import { postgresDatabase } from '../../src/lib/db/postgres.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { freePort } from '../../tests/helpers/ports.ts';
import type { MinimaxOptionsInput } from '../../sandbox/minimax/emulator.ts';

/**
 * The built server (`node dist/server/main.mjs`) as a child process — its memory is its own,
 * not mixed with the load generator's — with a temporary database and storage, pointed at a
 * sandbox that runs in the benchmark process on loopback.
 */

export interface BenchServer {
  url: string;
  pid: number;
  dir: string;
  /** The SQLite file (unused when the server runs on `databaseUrl`). */
  databaseFile: string;
  storageDir: string;
  /** The server's database through the seam, on whichever engine it runs (the caller ends it). */
  openDatabase(): Database;
  sandbox: Sandbox;
  /** Resident and peak resident memory of the server process, in bytes. */
  memory(): { rss: number; hwm: number };
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  env?: Record<string, string>;
  /** A PostgreSQL database (bench/lib/postgres.ts) instead of a fresh SQLite file. */
  databaseUrl?: string;
  minimax?: MinimaxOptionsInput;
}

export { freePort };

export function readMemory(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Samples a process's RSS every `everyMs`; `stop()` gives the largest value seen. */
export function sampleMemory(pid: number, everyMs = 50): { stop(): { maxRss: number; samples: number } } {
  let maxRss = 0;
  let samples = 0;
  const take = () => {
    try {
      maxRss = Math.max(maxRss, readMemory(pid).rss);
      samples += 1;
    } catch {
      // the process ended
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { maxRss, samples };
    },
  };
}

async function waitForHealth(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}; log: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server did not become healthy; log: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
}

export async function startBenchServer(options: BenchServerOptions = {}): Promise<BenchServer> {
  const entry = path.resolve('dist/server/main.mjs');
  if (!fs.existsSync(entry)) throw new Error('dist/server/main.mjs is missing: run `npm run build` first.');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-bench-'));
  // No benchmark studies MiniMax's rate limit: off, unless one asks for it.
  const sandbox = await startSandbox({ minimax: { rpmLimit: null, ...options.minimax } });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  sandbox.setAppUrl(url);
  const databaseFile = path.join(dir, 'beem.db');
  const storageDir = path.join(dir, 'storage');
  const logFile = path.join(dir, 'server.log');
  const log = fs.openSync(logFile, 'a');
  // Profiling a run: BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench -- status
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_BASE_URL: url,
      DATABASE_URL: options.databaseUrl ?? databaseFile,
      STORAGE_DIR: storageDir,
      SANDBOX_URL: sandbox.url,
      LOG_LEVEL: 'info',
      TELEGRAM_MIN_INTERVAL_MS: '0',
      ...options.env,
    },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  try {
    await waitForHealth(url, child, logFile);
  } catch (err) {
    child.kill('SIGKILL');
    await sandbox.close();
    throw err;
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    dir,
    databaseFile,
    storageDir,
    sandbox,
    memory: () => readMemory(pid),
    openDatabase: () =>
      options.databaseUrl ? postgresDatabase(new pg.Pool({ connectionString: options.databaseUrl, max: 4 })) : openDatabase(databaseFile),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await sandbox.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` is true (polling), or throws after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

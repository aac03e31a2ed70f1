import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { sandboxOptionsFromEnv } from '../sandbox/env.ts';
import { describeSandbox } from '../sandbox/describe.ts';
import type { MinimaxEmulator } from '../sandbox/minimax/emulator.ts';
import Database from 'better-sqlite3';
import { sqliteDatabase } from '../src/lib/db/sqlite.ts';
import { expireForgottenSandboxPayments } from '../src/lib/billing/sandbox-payments.ts';
import { DEMO_ADMIN_EMAIL, adminNote, ffmpegNote, findPortProblems } from './demo-checks.ts';
import { probeFfmpeg } from '../src/lib/video/ffmpeg.ts';

/**
 * `npm run demo`: Beem with every external service emulated, no keys and no internet.
 * Builds when dist/ is missing or older than the sources, starts the sandbox in this process
 * (SANDBOX_PORT, default 4010) and Beem as a child (`node dist/server/main.mjs`, PORT, default
 * 3000) pointed at it through SANDBOX_URL, the variable development uses for every service.
 * Data lives in data/demo.db and data/demo-storage. Ctrl-C stops both. Nothing is announced
 * before both answer: taken ports are found first and named with the variable that moves them.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD_INPUTS = ['src', 'public', 'astro.config.mjs', 'package.json', 'package-lock.json', 'scripts/build-server.mjs', 'tsconfig.json'];
const BUILD_OUTPUTS = ['dist/server/main.mjs', 'dist/server/entry.mjs'];

function newestMtime(target: string): number {
  if (!fs.existsSync(target)) return 0;
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

function buildIfNeeded(): void {
  const outputs = BUILD_OUTPUTS.map((p) => path.join(root, p));
  const builtAt = outputs.every((p) => fs.existsSync(p)) ? Math.min(...outputs.map((p) => fs.statSync(p).mtimeMs)) : 0;
  const changedAt = Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(root, p))));
  if (builtAt > changedAt) return;
  console.log(builtAt === 0 ? 'Building Beem (first run)…' : 'Sources changed since the last build: rebuilding…');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) {
    console.error('The build failed; see the messages above.');
    process.exit(build.status ?? 1);
  }
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/**
 * The sandbox keeps payments in memory: payments the previous run left open would answer 404
 * from now on. Only the demo's own database is touched (not one given in DATABASE_URL).
 */
async function expirePreviousRunPayments(databaseFile: string): Promise<void> {
  if (process.env.DATABASE_URL || !fs.existsSync(databaseFile)) return;
  // The seam straight on the connection: src/lib/db/index.ts would pull in the migrations'
  // SQL imports, which only the build resolves (tsx runs this script).
  const raw = new Database(databaseFile);
  const db = sqliteDatabase(raw);
  try {
    raw.pragma('busy_timeout = 5000');
    const hasPayments = await db.get(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'payments'`);
    const closed = hasPayments ? await expireForgottenSandboxPayments(db, Date.now()) : 0;
    if (closed > 0) console.log(`Closed ${closed} unpaid payment(s) left open by the previous demo run (the sandbox forgets payments on restart).`);
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const sandboxOptions = sandboxOptionsFromEnv(process.env);
  const portProblems = await findPortProblems([
    { port: sandboxOptions.port ?? 4010, host: sandboxOptions.host ?? '127.0.0.1', variable: 'SANDBOX_PORT', what: 'the sandbox (emulated outside services)' },
    { port, host, variable: 'PORT', what: 'Beem' },
  ]);
  if (portProblems.length > 0) {
    console.error(portProblems.join('\n'));
    process.exit(1);
  }

  buildIfNeeded();

  const publicUrl = process.env.PUBLIC_BASE_URL ?? `http://localhost:${port}`;
  // The emulators call Beem back (payment notifications) on the loopback address it listens on.
  const beemUrl = process.env.BEEM_URL ?? `http://127.0.0.1:${port}`;
  let sandbox: Sandbox;
  try {
    // The browser comes back to the public address, which the provider must know exactly.
    const redirectUris = [...(sandboxOptions.oidc?.redirectUris ?? []), `${publicUrl}/auth/callback`];
    sandbox = await startSandbox({ ...sandboxOptions, appUrl: beemUrl, oidc: { redirectUris } });
  } catch (err) {
    const busy = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
    console.error(busy ? `Port ${sandboxOptions.port} for the sandbox was taken just now: stop that program or set SANDBOX_PORT.` : err);
    process.exit(1);
  }

  const databaseFile = path.join('data', 'demo.db');
  await expirePreviousRunPayments(path.join(root, databaseFile));
  const adminEmails = process.env.ADMIN_EMAILS || DEMO_ADMIN_EMAIL;
  fs.mkdirSync(path.join(root, 'data', 'demo-storage'), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'development',
    PORT: String(port),
    PUBLIC_BASE_URL: publicUrl,
    DATABASE_URL: databaseFile,
    STORAGE_DIR: path.join('data', 'demo-storage'),
    ADMIN_EMAILS: adminEmails,
    // Completion arrives by the callback protocol, as in production; polling stays the fallback.
    MINIMAX_CALLBACK_URL: `http://127.0.0.1:${port}/minimax_callback`,
    POLL_INTERVAL_MS: '2000',
    LOG_LEVEL: 'warn',
    ...process.env,
    // Always the sandbox that was just started, whatever the shell says.
    SANDBOX_URL: sandbox.url,
  };
  const beem = spawn(process.execPath, ['dist/server/main.mjs'], { cwd: root, env, stdio: 'inherit' });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (beem.exitCode === null) {
      beem.kill('SIGTERM');
      const killer = setTimeout(() => beem.kill('SIGKILL'), 15_000);
      await new Promise((resolve) => beem.once('exit', resolve));
      clearTimeout(killer);
    }
    await sandbox.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  beem.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`Beem stopped (${signal ?? `exit code ${code}`}); stopping the sandbox.`);
    void stop(code ?? 1);
  });

  if (!(await waitForHealth(`http://127.0.0.1:${port}`, beem, 30_000)) || beem.exitCode !== null) {
    if (!stopping) {
      console.error(`Beem did not answer on port ${port} within 30 s; is the port taken? Set PORT to use another.`);
      await stop(1);
    }
    return;
  }
  console.log(
    [
      '',
      `  Beem demo is running: open ${publicUrl}`,
      '',
      '  Every outside service is the local sandbox: sign in with any email, upload a photo,',
      '  generate a video, and buy credits on the sandbox payment page ("Pay" settles it).',
      '',
      ...ffmpegNote(sandbox.emulator<MinimaxEmulator>('minimax').ffmpeg(), probeFfmpeg(env.FFMPEG_PATH ?? 'ffmpeg')).map((line) => `  ${line}`),
      '',
      ...adminNote({ adminEmails, databaseFile, publicUrl }).map((line) => `  ${line}`),
      '',
      ...describeSandbox(sandbox).map((line) => `  ${line}`),
      '',
      `  Data: data/demo.db and data/demo-storage (delete them to start over). Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
}

await main();

import { spawn } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN_EMAIL, adminNote, ffmpegNote, portProblem } from '../../scripts/demo-checks.ts';

/**
 * `npm run demo` as a newcomer runs it (`tsx scripts/demo.ts`), up to the point where it
 * would build and start: a taken port is named with the variable that moves it, and nothing
 * is announced.
 */

function runDemo(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not stop by itself:\n${stdout}\n${stderr}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run demo with a port taken', () => {
  let taken: net.Server;
  let port: number;
  beforeAll(async () => {
    taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as AddressInfo).port;
  });
  afterAll(() => taken.close());

  it('names Beem’s port and PORT, and announces nothing', async () => {
    const result = await runDemo({ PORT: String(port), SANDBOX_PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Port ${port} for Beem is taken`);
    expect(result.stderr).toContain(`PORT=${port + 1} npm run demo`);
    expect(result.stderr).not.toContain('EADDRINUSE');
    expect(result.stdout).not.toContain('is running');
  });

  it('names the sandbox’s port and SANDBOX_PORT, and announces nothing', async () => {
    const result = await runDemo({ SANDBOX_PORT: String(port), PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Port ${port} for the sandbox`);
    expect(result.stderr).toContain(`SANDBOX_PORT=${port + 1} npm run demo`);
    expect(result.stdout).not.toContain('is running');
  });
});

describe('what the demo says', () => {
  it('says what is missing without ffmpeg (exports, posters, camera motion), and how to install it', () => {
    const missing = ffmpegNote(null).join('\n');
    expect(missing).toContain('WARNING: ffmpeg is not installed');
    expect(missing).toContain('no marketplace exports');
    expect(missing).toContain('still picture of the photo');
    expect(missing).toContain('apt-get install -y ffmpeg');
    expect(ffmpegNote('/usr/bin/ffmpeg').join('\n')).toContain('from your photo');
    // Beem's FFMPEG_PATH names nothing while the sandbox has one: the warning is about Beem only.
    const beemOnly = ffmpegNote('/usr/bin/ffmpeg', false).join('\n');
    expect(beemOnly).toContain('no marketplace exports');
    expect(beemOnly).not.toContain('still picture');
  });

  it('tells how to become an admin, with the e-mail the demo lists and the database it uses', () => {
    const lines = adminNote({ adminEmails: DEMO_ADMIN_EMAIL, databaseFile: 'data/demo.db', publicUrl: 'http://localhost:3000' }).join('\n');
    expect(lines).toContain(`sign in as ${DEMO_ADMIN_EMAIL} and open http://localhost:3000/admin`);
    expect(lines).toContain('ADMIN_EMAILS=you@example.ru npm run demo');
    expect(lines).toContain('DATABASE_URL=data/demo.db npm run admin');
  });

  it('words a port it may not use differently from a taken one', () => {
    expect(portProblem({ port: 80, host: '127.0.0.1', variable: 'PORT', what: 'Beem' }, 'EACCES')).toContain('cannot be used (EACCES)');
  });
});

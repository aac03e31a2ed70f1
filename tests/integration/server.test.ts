import fs from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3EnvOf, startApp, tempDir, type TestApp } from '../helpers/app.ts';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.ts';
import { storedBytes, storedKeys } from '../helpers/blobs.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { uploadPhoto } from '../helpers/generation.ts';
import { apiFetch } from '../helpers/http.ts';
import { createContext } from '../../src/lib/context.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createLogger } from '../../src/lib/logger.ts';

describe('server', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app.stop();
  });

  describe('on S3 storage (STORAGE=s3)', () => {
    let s3: TestS3Server;
    beforeAll(async () => {
      s3 = await startS3Server('beem-server-test');
    });
    afterAll(async () => {
      await s3.stop();
    });

    it('starts after checking the bucket, and keeps a seller’s photo there, not in STORAGE_DIR', async () => {
      const onS3 = await startApp({ env: s3EnvOf(s3) });
      try {
        expect(onS3.ctx.blobs.kind).toBe('s3');
        const seller = await createSignedInUser(onS3.ctx);
        expect((await uploadPhoto(onS3.url, seller.cookie)).status).toBe(200);
        const upload = (await onS3.ctx.db.get<{ path: string }>('SELECT path FROM uploads WHERE userId = ?', [seller.user.id]))!;
        // The start check's probe is gone; the photo is the one object of this seller.
        expect(await storedKeys(onS3.ctx, '')).toEqual([upload.path]);
        expect(fs.existsSync(path.join(onS3.ctx.config.paths.storageDir, upload.path))).toBe(false);
        const preview = await apiFetch(onS3.url, '/api/uploads/current', { cookie: seller.cookie });
        expect(preview.status).toBe(200);
        expect(Buffer.from(await preview.arrayBuffer()).equals(await storedBytes(onS3.ctx, upload.path))).toBe(true);
      } finally {
        await onS3.stop();
      }
    });

    it('stops the start with a message naming the bucket and the store’s answer when the secret is wrong, creating no database', async () => {
      const dir = tempDir();
      const env = {
        ...s3EnvOf(s3),
        S3_SECRET_ACCESS_KEY: 'not-the-secret',
        DATABASE_URL: path.join(dir, 'never.db'),
        STORAGE_DIR: path.join(dir, 'storage'),
      };
      const start = createContext(loadConfig(env), { log: createLogger('silent') });
      await expect(start).rejects.toThrow(`STORAGE=s3: bucket beem-server-test at ${s3.endpoint} is not usable`);
      await expect(start).rejects.toThrow('SignatureDoesNotMatch');
      expect(fs.existsSync(path.join(dir, 'never.db'))).toBe(false);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });

  it('answers /healthz after checking the database', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('reports unhealthy when the database is gone', async () => {
    const other = await startApp();
    await other.ctx.db.end();
    const res = await fetch(`${other.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false });
    await other.stop();
  });

  it('echoes a safe request id and makes one otherwise', async () => {
    const given = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'abc12345-test' } });
    expect(given.headers.get('x-request-id')).toBe('abc12345-test');
    const made = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves built assets with nosniff and Astro pages in Russian by default', async () => {
    const page = await fetch(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html lang="ru"');
    const icon = await fetch(`${app.url}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers the /favicon.ico browsers ask for on their own with a real icon', async () => {
    const icon = await fetch(`${app.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\/(x-icon|vnd\.microsoft\.icon)/);
    // ICONDIR: reserved 0, type 1 (icon), then the number of images.
    const bytes = Buffer.from(await icon.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    expect(bytes.readUInt16LE(4)).toBeGreaterThan(0);
  });
});

describe('built server process', () => {
  it('starts from dist, answers /healthz and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['dist/server/main.mjs'], {
      env: { ...process.env, NODE_ENV: 'test', PORT: '0', DATABASE_URL: path.join(dir, 'beem.db'), STORAGE_DIR: path.join(dir, 'storage') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 15_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/[^"\s]+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    });
    const res = await fetch(`${url}/healthz`);
    expect(await res.json()).toEqual({ ok: true });

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    // Exit code 0: it finished before the forced exit at SHUTDOWN_TIMEOUT_MS (which exits 1).
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"stopped"');
  });

  it('says which port is taken instead of a raw EADDRINUSE stack', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const dir = tempDir();
    try {
      const child = spawn(process.execPath, ['dist/server/main.mjs'], {
        env: { ...process.env, NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: path.join(dir, 'beem.db'), STORAGE_DIR: path.join(dir, 'storage') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`Port ${port} on 127.0.0.1 is taken`);
      expect(stderr).toContain('set PORT');
      expect(stderr).not.toContain('    at ');
    } finally {
      taken.close();
    }
  });

  it('exits with a message naming the variable when the configuration is invalid', async () => {
    const child = spawn(process.execPath, ['dist/server/main.mjs'], {
      env: { ...process.env, NODE_ENV: 'production', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(78);
    expect(stderr).toContain('SESSION_SECRET: required in production');
  });
});

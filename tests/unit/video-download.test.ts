import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDownloadUrl, downloadVideo, DownloadError } from '../../src/lib/generation/download.ts';
import { tempDir } from '../helpers/app.ts';
import { createLocalBlobStore } from '../../src/lib/blobs/local-store.ts';

/** A tiny CDN stand-in: the network boundary of the downloader. */
const MP4_HEAD = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(12)]);
let server: http.Server;
let host: string;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/ok.mp4':
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.end(Buffer.concat([MP4_HEAD, Buffer.alloc(50_000, 1)]));
        return;
      case '/chunked-big.mp4': {
        // No Content-Length: the cap must be counted while streaming.
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.write(MP4_HEAD);
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed || sent > 5_000_000) {
            clearInterval(timer);
            res.end();
            return;
          }
          res.write(Buffer.alloc(64 * 1024, 2));
          sent += 64 * 1024;
        }, 1);
        return;
      }
      case '/declared-big.mp4':
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '900000000' });
        res.end(MP4_HEAD);
        return;
      case '/expired.mp4':
        res.writeHead(403);
        res.end('AccessDenied');
        return;
      case '/not-video.mp4':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>' + 'x'.repeat(100) + '</html>');
        return;
      case '/redirect-away':
        res.writeHead(302, { location: 'http://example.org/ok.mp4' });
        res.end();
        return;
      case '/redirect-home':
        res.writeHead(302, { location: '/ok.mp4' });
        res.end();
        return;
      case '/slow.mp4':
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.write(MP4_HEAD);
        return; // never ends
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const options = (name: string, extra: Partial<Parameters<typeof downloadVideo>[0]> = {}) => ({
  url: `http://${host}/${name}`,
  store: createLocalBlobStore(dir),
  key: `videos/${name.replace(/\W/g, '_')}/video.mp4`,
  allowedHosts: [host],
  maxBytes: 1_000_000,
  timeoutMs: 5_000,
  ...extra,
});

/** The stored file of a download, and what else its folder holds (a partial file left behind). */
const fileOf = (o: { key: string }) => path.join(dir, o.key);
const leftovers = (o: { key: string }) => {
  const folder = path.dirname(fileOf(o));
  return fs.existsSync(folder) ? fs.readdirSync(folder).filter((name) => name !== 'video.mp4') : [];
};

async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DownloadError) return err;
    throw err;
  }
  throw new Error('expected the download to fail');
}

describe('video download', () => {
  it('requires https to a listed host (plain http only for listed loopback hosts)', () => {
    expect(() => checkDownloadUrl('https://video-product.cdn.minimax.io/a.mp4', ['video-product.cdn.minimax.io'])).not.toThrow();
    expect(() => checkDownloadUrl('http://video-product.cdn.minimax.io/a.mp4', ['video-product.cdn.minimax.io'])).toThrow(DownloadError);
    expect(() => checkDownloadUrl('https://evil.example/a.mp4', ['video-product.cdn.minimax.io'])).toThrow(/not in MINIMAX_DOWNLOAD_HOSTS/);
    expect(() => checkDownloadUrl(`http://${host}/a.mp4`, [])).toThrow(DownloadError);
    expect(() => checkDownloadUrl('file:///etc/passwd', ['etc'])).toThrow(DownloadError);
  });

  it('streams a video into place and leaves no partial file', async () => {
    const o = options('ok.mp4');
    const { bytes } = await downloadVideo(o);
    expect(bytes).toBe(MP4_HEAD.length + 50_000);
    expect(fs.statSync(fileOf(o)).size).toBe(bytes);
    expect(leftovers(o)).toEqual([]);
  });

  it('stops at the size cap while streaming a body of unknown length', async () => {
    const o = options('chunked-big.mp4');
    const err = await failure(downloadVideo(o));
    expect(err.code).toBe('DOWNLOAD_TOO_LARGE');
    expect(err.retryable).toBe(false);
    expect(fs.existsSync(fileOf(o))).toBe(false);
    expect(leftovers(o)).toEqual([]);
  });

  it('refuses a declared size over the cap before reading', async () => {
    expect((await failure(downloadVideo(options('declared-big.mp4')))).code).toBe('DOWNLOAD_TOO_LARGE');
  });

  it('reports an expired URL as retryable (a fresh one comes from retrieve)', async () => {
    const err = await failure(downloadVideo(options('expired.mp4')));
    expect(err.code).toBe('DOWNLOAD_URL_EXPIRED');
    expect(err.retryable).toBe(true);
  });

  it('refuses a file that is not an MP4', async () => {
    const o = options('not-video.mp4');
    expect((await failure(downloadVideo(o))).code).toBe('DOWNLOAD_NOT_MP4');
    expect(fs.existsSync(fileOf(o))).toBe(false);
    expect(leftovers(o)).toEqual([]);
  });

  it('follows redirects only to listed hosts', async () => {
    expect((await failure(downloadVideo(options('redirect-away')))).code).toBe('DOWNLOAD_REDIRECT_REFUSED');
    const home = options('redirect-home');
    await downloadVideo(home);
    expect(fs.existsSync(fileOf(home))).toBe(true);
  });

  it('reports a store that cannot keep the video as a retryable failure, keeping nothing', async () => {
    // A storage folder that is a file: every write fails, as a full or read-only disk would.
    const blocked = path.join(dir, 'blocked');
    fs.writeFileSync(blocked, '');
    const err = await failure(downloadVideo({ ...options('ok.mp4'), store: createLocalBlobStore(blocked) }));
    expect(err.code, err.message).toBe('DOWNLOAD_STORAGE_FAILED');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('storing the video failed');
  });

  it('gives up after its timeout', async () => {
    const err = await failure(downloadVideo(options('slow.mp4', { timeoutMs: 300 })));
    expect(err.code).toBe('DOWNLOAD_TIMEOUT');
    expect(err.retryable).toBe(true);
  });
});

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStoreError, type BlobStore } from '../../src/lib/blobs/blob-store.ts';
import { createLocalBlobStore } from '../../src/lib/blobs/local-store.ts';
import { createS3BlobStore } from '../../src/lib/blobs/s3-store.ts';
import { serveBlob } from '../../src/lib/blobs/serve-blob.ts';
import { S3RVER_CREDENTIALS, startS3Forwarder, startS3Server, type TestS3Server } from '../helpers/s3-server.ts';

/**
 * Stream-through serving (the route's side of the blob seam) over real HTTP, from the local
 * disk and from a bucket on a signature-checking S3 server: what a <video> element asks for.
 */

const KEY = 'users/u1/videos/gen_1.a1.mp4';
const video = createCipheriv('aes-256-ctr', createHash('sha256').update('serve').digest(), Buffer.alloc(16)).update(Buffer.alloc(2 * 1024 * 1024 + 7));
const ROUTE_HEADERS = { 'Content-Type': 'video/mp4', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'private, max-age=3600' };

let s3: TestS3Server;
let storageDir: string;
const closers: Array<() => unknown> = [];

interface Served {
  url: string;
  /** What each request's `serveBlob` ended with: its outcome or the error code it threw. */
  outcomes: string[];
  settled: () => Promise<void>;
}

/** A stand-in for Beem's file route: serveBlob, a 404 for 'not-found', a 503 for a store failure. */
async function serve(store: BlobStore): Promise<Served> {
  const outcomes: string[] = [];
  const pending = new Set<Promise<void>>();
  const server = http.createServer((req, res) => {
    const key = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    const done = serveBlob(store, req, res, key, { headers: ROUTE_HEADERS }).then(
      (outcome) => {
        outcomes.push(outcome);
        if (outcome === 'not-found') res.writeHead(404).end();
      },
      (err: unknown) => {
        outcomes.push(err instanceof BlobStoreError ? err.code : String(err));
        if (!res.headersSent) res.writeHead(503).end();
      },
    );
    pending.add(done);
    void done.finally(() => pending.delete(done));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    outcomes,
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

async function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(url, { method, headers });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

beforeAll(async () => {
  s3 = await startS3Server();
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-serve-'));
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await s3.stop();
  fs.rmSync(storageDir, { recursive: true, force: true });
});

function s3Store(endpoint = s3.endpoint): BlobStore {
  const store = createS3BlobStore({ endpoint, region: s3.region, bucket: s3.bucket, ...S3RVER_CREDENTIALS, forcePathStyle: true, scratchDir: path.join(storageDir, '.scratch') });
  closers.push(() => store.close());
  return store;
}

describe.each([
  ['local disk', () => createLocalBlobStore(storageDir)],
  ['S3 bucket', () => s3Store()],
] as Array<[string, () => BlobStore]>)('serving a blob: %s', (_name, make) => {
  let served: Served;
  let url: string;

  beforeAll(async () => {
    const store = make();
    await store.put(KEY, Readable.from([video]), { contentType: 'video/mp4' });
    served = await serve(store);
    url = `${served.url}/${KEY}`;
  });

  it('sends the whole file with the route headers, its length, tag and Accept-Ranges', async () => {
    const answer = await get(url);
    expect(answer.status).toBe(200);
    expect(answer.body.equals(video)).toBe(true);
    expect(answer.headers.get('content-length')).toBe(String(video.length));
    expect(answer.headers.get('accept-ranges')).toBe('bytes');
    expect(answer.headers.get('content-type')).toBe('video/mp4');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('etag')).toMatch(/"/);
    expect(answer.headers.get('last-modified')).toMatch(/GMT$/);
  });

  it('answers ranges with 206 and the right bytes: first, middle, suffix, clipped at the end', async () => {
    const size = video.length;
    for (const [range, start, end] of [
      ['bytes=0-9', 0, 9],
      ['bytes=1048576-1049599', 1048576, 1049599],
      ['bytes=-100', size - 100, size - 1],
      [`bytes=${size - 5}-${size + 100}`, size - 5, size - 1],
    ] as Array<[string, number, number]>) {
      const answer = await get(url, { Range: range });
      expect(answer.status, range).toBe(206);
      expect(answer.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/${size}`);
      expect(answer.headers.get('content-length'), range).toBe(String(end - start + 1));
      expect(answer.body.equals(video.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers a range past the end with 416 and the size', async () => {
    const answer = await get(url, { Range: `bytes=${video.length}-` });
    expect(answer.status).toBe(416);
    expect(answer.headers.get('content-range')).toBe(`bytes */${video.length}`);
  });

  it('answers HEAD with the length and no body', async () => {
    const whole = await get(url, {}, 'HEAD');
    expect([whole.status, whole.headers.get('content-length'), whole.body.length]).toEqual([200, String(video.length), 0]);
    const part = await get(url, { Range: 'bytes=10-19' }, 'HEAD');
    expect([part.status, part.headers.get('content-range'), part.body.length]).toEqual([206, `bytes 10-19/${video.length}`, 0]);
  });

  it('answers 304 to a matching If-None-Match, and the whole file to a stale If-Range', async () => {
    const etag = (await get(url, {}, 'HEAD')).headers.get('etag')!;
    const cached = await get(url, { 'If-None-Match': etag });
    expect([cached.status, cached.body.length, cached.headers.get('x-content-type-options')]).toEqual([304, 0, 'nosniff']);
    const fresh = await get(url, { Range: 'bytes=0-9', 'If-Range': etag });
    expect(fresh.status).toBe(206);
    const stale = await get(url, { Range: 'bytes=0-9', 'If-Range': '"another-version"' });
    expect([stale.status, stale.body.length]).toEqual([200, video.length]);
  });

  it('leaves a missing blob to the route (its 404)', async () => {
    const answer = await get(`${served.url}/users/u1/videos/missing.mp4`);
    expect(answer.status).toBe(404);
    await served.settled();
    expect(served.outcomes.at(-1)).toBe('not-found');
  });

  it('takes a client that leaves mid-stream as served, not as a storage failure', async () => {
    await new Promise<void>((resolve, reject) => {
      const request = http.get(url, (response) => {
        response.once('data', () => {
          request.destroy();
          resolve();
        });
      });
      request.on('error', (err) => (request.destroyed ? resolve() : reject(err)));
    });
    await served.settled();
    expect(served.outcomes.at(-1)).toBe('sent');
  });
});

describe('serving from an unreachable bucket', () => {
  it('throws one storage error before anything is sent, so the route can answer and report it', async () => {
    const store = s3Store();
    await store.put(KEY, Readable.from([video]));
    const down = await startS3Forwarder(s3.endpoint, () => 503);
    closers.push(() => down.stop());
    const served = await serve(createS3BlobStore({ endpoint: down.endpoint, region: s3.region, bucket: s3.bucket, ...S3RVER_CREDENTIALS, forcePathStyle: true, scratchDir: storageDir, maxAttempts: 2 }));
    const answer = await get(`${served.url}/${KEY}`);
    expect(answer.status).toBe(503);
    await served.settled();
    expect(served.outcomes).toEqual(['BLOB_STORAGE_FAILED']);
  });

  it('cuts the connection when the bucket breaks off mid-stream: the client gets a short body, never a wrong one', async () => {
    const store = s3Store();
    await store.put(KEY, Readable.from([video]));
    const flaky = await startS3Forwarder(s3.endpoint, (request) => (request.method === 'GET' ? 'cut' : null));
    closers.push(() => flaky.stop());
    const served = await serve(createS3BlobStore({ endpoint: flaky.endpoint, region: s3.region, bucket: s3.bucket, ...S3RVER_CREDENTIALS, forcePathStyle: true, scratchDir: storageDir }));
    const received = await new Promise<{ status: number; bytes: number; complete: boolean }>((resolve) => {
      http.get(`${served.url}/${KEY}`, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('close', () => resolve({ status: response.statusCode ?? 0, bytes, complete: response.complete }));
      });
    });
    expect(received.status).toBe(200);
    expect(received.complete).toBe(false);
    expect(received.bytes).toBeLessThan(video.length);
    await served.settled();
    expect(served.outcomes).toEqual(['BLOB_STORAGE_FAILED']);
  });
});

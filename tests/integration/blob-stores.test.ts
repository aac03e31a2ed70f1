import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStoreError, type BlobStore } from '../../src/lib/blobs/blob-store.ts';
import { createLocalBlobStore } from '../../src/lib/blobs/local-store.ts';
import { readBlobBytes } from '../../src/lib/blobs/read-bytes.ts';
import { createS3BlobStore, MIN_PART_SIZE, STALE_COPY_MS } from '../../src/lib/blobs/s3-store.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createBlobStore } from '../../src/lib/blobs/index.ts';
import { S3RVER_CREDENTIALS, startS3Forwarder, startS3Server, type S3Forwarder, type TestS3Server } from '../helpers/s3-server.ts';
import { s3EnvOf } from '../helpers/app.ts';

/**
 * One contract for both blob stores: the local disk and an S3 bucket on a real S3 server
 * that checks SigV4 signatures (@20minutes/s3rver), started here on a random port.
 */

const MB = 1024 * 1024;

/** Deterministic bytes that differ at every position, so a shifted range cannot pass. */
function bytesOf(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** A stream of `data` in 64 KB chunks, as a download or an ffmpeg pipe delivers it. */
function streamOf(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < data.length; offset += 64 * 1024) yield data.subarray(offset, offset + 64 * 1024);
    })(),
  );
}

/** Gives `goodBytes` bytes, then fails: an upload that breaks mid-way. */
function failingStreamOf(data: Buffer, goodBytes: number): Readable {
  return Readable.from(
    (async function* () {
      yield* streamOf(data.subarray(0, goodBytes));
      throw new Error('the source broke');
    })(),
  );
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BlobStoreError) return err.code;
    throw err;
  }
  return 'no error';
}

let s3: TestS3Server;
let scratchDir: string;
let storageDir: string;
const stores: BlobStore[] = [];

function s3Store(overrides: Partial<Parameters<typeof createS3BlobStore>[0]> = {}): BlobStore {
  const store = createS3BlobStore({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    ...S3RVER_CREDENTIALS,
    forcePathStyle: true,
    scratchDir,
    partSize: MIN_PART_SIZE,
    ...overrides,
  });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  s3 = await startS3Server();
  scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-scratch-'));
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-storage-'));
});

afterAll(async () => {
  for (const store of stores) store.close();
  await s3.stop();
  fs.rmSync(scratchDir, { recursive: true, force: true });
  fs.rmSync(storageDir, { recursive: true, force: true });
});

const implementations: Array<[string, () => BlobStore]> = [
  ['local disk', () => createLocalBlobStore(storageDir)],
  ['S3 bucket', () => s3Store()],
];

describe.each(implementations)('blob store contract: %s', (_name, make) => {
  let store: BlobStore;
  const video = bytesOf(3 * MB + 123, 'video');
  const key = 'users/u1/videos/gen_1.a1.mp4';

  beforeAll(async () => {
    store = make();
    await store.put(key, streamOf(video), { contentType: 'video/mp4' });
  });

  it('gives back a streamed upload byte for byte, with its size', async () => {
    const info = await store.head(key);
    expect(info?.size).toBe(video.length);
    expect(info?.etag).toMatch(/^(W\/)?".+"$/);
    const read = await store.openRead(key);
    expect(read).toMatchObject({ start: 0, end: video.length - 1, info: { size: video.length } });
    expect((await readAll(read.body)).equals(video)).toBe(true);
    expect(await store.exists(key)).toBe(true);
  });

  it('reads ranges: the first bytes, the middle, to the end, and clipped at the end', async () => {
    const cases = [
      { range: { start: 0, end: 9 }, expected: [0, 9] },
      { range: { start: 1_000_000, end: 1_999_999 }, expected: [1_000_000, 1_999_999] },
      { range: { start: video.length - 100 }, expected: [video.length - 100, video.length - 1] },
      { range: { start: video.length - 10, end: video.length + 5_000 }, expected: [video.length - 10, video.length - 1] },
      { range: { start: video.length - 1, end: video.length - 1 }, expected: [video.length - 1, video.length - 1] },
    ];
    for (const { range, expected } of cases) {
      const read = await store.openRead(key, range);
      expect([read.start, read.end], JSON.stringify(range)).toEqual(expected);
      expect(read.info.size).toBe(video.length);
      const bytes = await readAll(read.body);
      expect(bytes.equals(video.subarray(expected[0], expected[1]! + 1)), JSON.stringify(range)).toBe(true);
    }
  });

  it('refuses a range that starts at or past the end', async () => {
    expect(await codeOf(store.openRead(key, { start: video.length }))).toBe('BLOB_RANGE_NOT_SATISFIABLE');
    expect(await codeOf(store.openRead(key, { start: video.length + 10, end: video.length + 20 }))).toBe('BLOB_RANGE_NOT_SATISFIABLE');
  });

  it('answers a missing key with a typed not-found, never a storage failure', async () => {
    const missing = 'users/u1/videos/never-written.mp4';
    expect(await store.head(missing)).toBeNull();
    expect(await store.exists(missing)).toBe(false);
    expect(await codeOf(store.openRead(missing))).toBe('BLOB_NOT_FOUND');
    expect(await codeOf(store.openRead(missing, { start: 5 }))).toBe('BLOB_NOT_FOUND');
    expect(await codeOf(store.withLocalFile(missing, async () => 'ran'))).toBe('BLOB_NOT_FOUND');
  });

  it('deletes, and deleting again is not an error', async () => {
    const doomed = 'users/u1/videos/doomed.mp4';
    await store.put(doomed, streamOf(bytesOf(1000, 'doomed')));
    await store.delete(doomed);
    await store.delete(doomed);
    expect(await store.exists(doomed)).toBe(false);
    expect(await codeOf(store.openRead(doomed))).toBe('BLOB_NOT_FOUND');
  });

  it('replaces a blob whole, and keeps the old one when an upload breaks mid-way', async () => {
    const poster = 'users/u1/videos/gen_1.a1.poster.jpg';
    const first = bytesOf(200_000, 'first');
    const second = bytesOf(300_000, 'second');
    await store.put(poster, streamOf(first));
    await store.put(poster, streamOf(second));
    expect((await readAll((await store.openRead(poster)).body)).equals(second)).toBe(true);

    // The source's own error comes back (a download's size cap), not a storage failure.
    const broken = bytesOf(12 * MB, 'broken');
    await expect(store.put(poster, failingStreamOf(broken, 7 * MB))).rejects.toThrow(/^the source broke$/);
    expect((await store.head(poster))?.size).toBe(second.length);
    expect((await readAll((await store.openRead(poster)).body)).equals(second)).toBe(true);
  });

  it('stores an upload larger than several parts (multipart on S3)', async () => {
    const big = bytesOf(11 * MB + 17, 'big');
    const bigKey = 'users/u1/videos/gen_big.a1.mp4';
    const info = await store.put(bigKey, streamOf(big), { contentType: 'video/mp4' });
    expect(info.size).toBe(big.length);
    const head = await readAll((await store.openRead(bigKey, { start: 0, end: MIN_PART_SIZE + 9 })).body);
    expect(head.equals(big.subarray(0, MIN_PART_SIZE + 10))).toBe(true);
    expect((await readAll((await store.openRead(bigKey)).body)).equals(big)).toBe(true);
  });

  it('stores a local file (an ffmpeg output) and leaves the file in place', async () => {
    const cover = bytesOf(150_000, 'cover');
    const file = path.join(scratchDir, `cover-${_name.replace(/\W/g, '')}.jpg`);
    fs.writeFileSync(file, cover);
    const info = await store.putFile('users/u1/videos/gen_1.cover.wb.blur.jpg', file, { contentType: 'image/jpeg' });
    expect(info.size).toBe(cover.length);
    expect(fs.existsSync(file)).toBe(true);
    expect((await readAll((await store.openRead('users/u1/videos/gen_1.cover.wb.blur.jpg')).body)).equals(cover)).toBe(true);
    fs.rmSync(file);
    // A missing ffmpeg output is the file system's own error, not a missing blob: the cover stays as it was.
    await expect(store.putFile('users/u1/videos/gen_1.cover.wb.blur.jpg', file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await store.head('users/u1/videos/gen_1.cover.wb.blur.jpg'))?.size).toBe(cover.length);
  });

  it('stores a file a writer makes (an ffmpeg output) and removes the working file; a failed writer stores nothing', async () => {
    const made = bytesOf(200_000, 'made');
    const madeKey = 'users/u1/videos/gen_1.export.wb.blur.mp4';
    let working = '';
    const { made: answer, info } = await store.putMadeFile(madeKey, async (file) => {
      working = file;
      fs.writeFileSync(file, made);
      return 'written';
    });
    expect(answer).toBe('written');
    expect(info.size).toBe(made.length);
    expect(fs.existsSync(working)).toBe(false);
    expect((await readAll((await store.openRead(madeKey)).body)).equals(made)).toBe(true);
    // The writer's own error comes back, and the blob stored before stays whole.
    const broken = store.putMadeFile(madeKey, async (file) => {
      working = file;
      fs.writeFileSync(file, made.subarray(0, 1000));
      throw new Error('ffmpeg exited with 1');
    });
    await expect(broken).rejects.toThrow('ffmpeg exited with 1');
    expect(fs.existsSync(working)).toBe(false);
    expect((await readAll((await store.openRead(madeKey)).body)).equals(made)).toBe(true);
  });

  it('stores and reads an empty blob', async () => {
    const info = await store.put('users/u1/uploads/empty.jpg', Readable.from([]));
    expect(info.size).toBe(0);
    const read = await store.openRead('users/u1/uploads/empty.jpg');
    expect(read.info.size).toBe(0);
    expect((await readAll(read.body)).length).toBe(0);
  });

  it('reads a small blob into memory, and refuses one over the cap', async () => {
    expect((await readBlobBytes(store, key, video.length)).equals(video)).toBe(true);
    expect(await codeOf(readBlobBytes(store, key, video.length - 1))).toBe('BLOB_TOO_LARGE');
    expect(await codeOf(readBlobBytes(store, 'users/u1/uploads/none.jpg', 1000))).toBe('BLOB_NOT_FOUND');
  });

  it('hands ffmpeg a real local file with the bytes and the extension of the blob', async () => {
    const seen = await store.withLocalFile(key, async (file) => {
      expect(path.extname(file)).toBe('.mp4');
      expect(fs.readFileSync(file).equals(video)).toBe(true);
      return file;
    });
    if (store.kind === 's3') expect(fs.existsSync(seen)).toBe(false);
  });

  it('passes its start check and leaves no probe behind, also with several processes starting at once', async () => {
    await store.verify();
    await store.verify();
    await Promise.all(Array.from({ length: 8 }, () => store.verify()));
    if (store.kind === 'local') expect(fs.readdirSync(storageDir).filter((name) => name.startsWith('.probe'))).toEqual([]);
  });

  it('refuses keys that try to leave the store or name something else', async () => {
    fs.writeFileSync(path.join(os.tmpdir(), 'beem-outside.txt'), 'outside');
    const keys = [
      '../beem-outside.txt',
      'users/../../beem-outside.txt',
      'users/u1/../../../etc/passwd',
      '/etc/passwd',
      'users/./u1/x.mp4',
      'users//x.mp4',
      'users/u1/.x.mp4.abc.part',
      'users\\..\\x',
      'users/u1/x.mp4?versionId=1',
      '',
      `users/${'a'.repeat(600)}`,
    ];
    for (const bad of keys) {
      expect(await codeOf(store.put(bad, streamOf(Buffer.from('x')))), bad).toBe('BLOB_KEY_INVALID');
      expect(await codeOf(store.head(bad)), bad).toBe('BLOB_KEY_INVALID');
      expect(await codeOf(store.openRead(bad)), bad).toBe('BLOB_KEY_INVALID');
      expect(await codeOf(store.delete(bad)), bad).toBe('BLOB_KEY_INVALID');
      expect(await codeOf(store.withLocalFile(bad, async () => 'ran')), bad).toBe('BLOB_KEY_INVALID');
    }
    expect(fs.readFileSync(path.join(os.tmpdir(), 'beem-outside.txt'), 'utf8')).toBe('outside');
  });
});

describe('local blob store', () => {
  it('keeps the layout the database paths point to, and leaves no temporary file behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-local-'));
    try {
      const store = createLocalBlobStore(dir);
      await store.put('users/u2/uploads/upl_1.jpg', streamOf(bytesOf(5000, 'photo')));
      expect(fs.readFileSync(path.join(dir, 'users/u2/uploads/upl_1.jpg')).equals(bytesOf(5000, 'photo'))).toBe(true);
      await expect(store.put('users/u2/uploads/upl_2.jpg', failingStreamOf(bytesOf(MB, 'x'), 100_000))).rejects.toThrow('the source broke');
      expect(fs.readdirSync(path.join(dir, 'users/u2/uploads'))).toEqual(['upl_1.jpg']);
      expect(await store.withLocalFile('users/u2/uploads/upl_1.jpg', async (file) => file)).toBe(path.join(dir, 'users/u2/uploads/upl_1.jpg'));
      // A STORAGE_DIR that cannot hold files stops the start.
      fs.writeFileSync(path.join(dir, 'not-a-folder'), 'x');
      await expect(createLocalBlobStore(path.join(dir, 'not-a-folder')).verify()).rejects.toMatchObject({ code: 'BLOB_STORAGE_FAILED' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes the partial file a killed process left when the blob is written again, not a live writer’s', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-local-'));
    try {
      const folder = path.join(dir, 'users/u3/videos');
      fs.mkdirSync(folder, { recursive: true });
      // A download cut off by SIGKILL before this process started, and one another writer is making now.
      const abandoned = path.join(folder, '.gen_1.mp4.0a0b0c0d0e0f.part');
      fs.writeFileSync(abandoned, bytesOf(70_000, 'cut'));
      const past = new Date(Date.now() - 60_000);
      fs.utimesSync(abandoned, past, past);
      const store = createLocalBlobStore(dir);
      const live = path.join(folder, '.gen_1.mp4.1a1b1c1d1e1f.part');
      fs.writeFileSync(live, bytesOf(1000, 'live'));
      // Written to after the store opened (stated, not left to the file system's clock granularity).
      const later = new Date(Date.now() + 1000);
      fs.utimesSync(live, later, later);
      await store.put('users/u3/videos/gen_1.mp4', streamOf(bytesOf(90_000, 'whole')));
      expect(fs.readdirSync(folder).sort()).toEqual(['.gen_1.mp4.1a1b1c1d1e1f.part', 'gen_1.mp4']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('S3 blob store', () => {
  let forwarder: S3Forwarder | null = null;

  afterAll(async () => {
    await forwarder?.stop();
  });

  it('works as configured by the STORAGE=s3 variables', async () => {
    const { config, secrets } = loadConfig({ STORAGE_DIR: storageDir, ...s3EnvOf(s3) });
    const store = createBlobStore(config, secrets);
    try {
      await store.put('users/u4/uploads/upl_9.jpg', streamOf(bytesOf(4096, 'configured')), { contentType: 'image/jpeg' });
      expect(await store.head('users/u4/uploads/upl_9.jpg')).toMatchObject({ size: 4096 });
      // Nothing of the bucket's lands in STORAGE_DIR but ffmpeg's temporary copies.
      expect(fs.existsSync(path.join(storageDir, 'users/u4'))).toBe(false);
      await store.withLocalFile('users/u4/uploads/upl_9.jpg', async (file) => {
        expect(path.relative(storageDir, file).split(path.sep)[0]).toBe('.scratch');
      });
    } finally {
      store.close();
    }
  });

  it('stops the start check with the answer of the store: a missing bucket, a wrong secret', async () => {
    await expect(s3Store({ bucket: 'no-such-bucket' }).verify()).rejects.toMatchObject({ code: 'BLOB_STORAGE_FAILED', message: expect.stringContaining('NoSuchBucket') });
    await expect(s3Store({ secretAccessKey: 'not-the-secret' }).verify()).rejects.toMatchObject({
      code: 'BLOB_STORAGE_FAILED',
      message: expect.stringContaining('SignatureDoesNotMatch'),
    });
  });

  it('is refused with a wrong secret key: the server checks signatures', async () => {
    const store = s3Store({ secretAccessKey: 'not-the-secret' });
    const put = store.put('users/u3/videos/x.mp4', streamOf(Buffer.from('x')));
    await expect(put).rejects.toMatchObject({ code: 'BLOB_STORAGE_FAILED', message: expect.stringContaining('SignatureDoesNotMatch') });
    // A refused HEAD is a failure too, not "missing": a wrong key must not look like an empty bucket.
    expect(await codeOf(store.head('users/u1/videos/gen_1.a1.mp4'))).toBe('BLOB_STORAGE_FAILED');
    expect(await codeOf(store.openRead('users/u1/videos/gen_1.a1.mp4'))).toBe('BLOB_STORAGE_FAILED');
  });

  it('sends a large blob as a multipart upload and retries a part the server failed once', async () => {
    let failedOnce = false;
    forwarder = await startS3Forwarder(s3.endpoint, (request) => {
      if (!failedOnce && request.method === 'PUT' && request.url.includes('partNumber=2')) {
        failedOnce = true;
        return 503;
      }
      return null;
    });
    const store = s3Store({ endpoint: forwarder.endpoint });
    const big = bytesOf(11 * MB, 'multipart');
    const info = await store.put('users/u3/videos/gen_mp.a1.mp4', streamOf(big));
    expect(info.size).toBe(big.length);
    const parts = forwarder.requests.filter((r) => r.method === 'PUT' && /partNumber=\d/.test(r.url)).map((r) => /partNumber=(\d+)/.exec(r.url)![1]);
    expect(parts.sort()).toEqual(['1', '2', '2', '3']);
    expect((await readAll((await store.openRead('users/u3/videos/gen_mp.a1.mp4')).body)).equals(big)).toBe(true);
  });

  it('aborts its multipart upload when the source breaks, so no parts stay stored (and billed)', async () => {
    const watched = await startS3Forwarder(s3.endpoint);
    try {
      const store = s3Store({ endpoint: watched.endpoint });
      await expect(store.put('users/u3/videos/gen_cut.a1.mp4', failingStreamOf(bytesOf(12 * MB, 'cut'), 11 * MB))).rejects.toThrow('the source broke');
      const created = watched.requests.filter((r) => r.method === 'POST' && r.url.includes('?uploads'));
      const aborted = watched.requests.filter((r) => r.method === 'DELETE' && /[?&]uploadId=/.test(r.url));
      expect(created).toHaveLength(1);
      expect(aborted).toHaveLength(1);
      expect(await store.exists('users/u3/videos/gen_cut.a1.mp4')).toBe(false);
    } finally {
      await watched.stop();
    }
  });

  it('reports an outage that outlasts the retries as one storage failure naming the key', async () => {
    const down = await startS3Forwarder(s3.endpoint, () => 503);
    try {
      const store = s3Store({ endpoint: down.endpoint, maxAttempts: 2 });
      const failure = store.openRead('users/u1/videos/gen_1.a1.mp4');
      await expect(failure).rejects.toMatchObject({ code: 'BLOB_STORAGE_FAILED', key: 'users/u1/videos/gen_1.a1.mp4' });
      await expect(failure).rejects.toThrow(/HTTP 503/);
      expect(down.requests.length).toBe(2);
    } finally {
      await down.stop();
    }
  });

  it('removes the copies a killed process left for ffmpeg, and only old ones', async () => {
    const ownScratch = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-scratch-left-'));
    try {
      const left = path.join(ownScratch, 'blob-left');
      const running = path.join(ownScratch, 'blob-running');
      for (const folder of [left, running]) {
        fs.mkdirSync(folder);
        fs.writeFileSync(path.join(folder, 'gen_1.a1.mp4'), 'copy');
      }
      const old = new Date(Date.now() - STALE_COPY_MS - 60_000);
      fs.utimesSync(left, old, old);
      const store = s3Store({ scratchDir: ownScratch });
      await store.withLocalFile('users/u1/videos/gen_1.a1.mp4', async () => 'ran');
      expect(fs.readdirSync(ownScratch)).toEqual(['blob-running']);
    } finally {
      fs.rmSync(ownScratch, { recursive: true, force: true });
    }
  });

  it('removes the temporary copy for ffmpeg even when ffmpeg fails', async () => {
    const store = s3Store();
    let seen = '';
    const run = store.withLocalFile('users/u1/videos/gen_1.a1.mp4', async (file) => {
      seen = file;
      throw new Error('ffmpeg exited with 1');
    });
    await expect(run).rejects.toThrow('ffmpeg exited with 1');
    expect(seen).not.toBe('');
    expect(fs.existsSync(path.dirname(seen))).toBe(false);
    expect(fs.readdirSync(scratchDir).filter((name) => name.startsWith('blob-'))).toEqual([]);
  });
});

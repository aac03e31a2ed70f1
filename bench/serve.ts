import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isMain, runAlone, type Benchmark, type BenchResult } from './lib/report.ts';
import { sampleMemory, startBenchServer } from './lib/stack.ts';
import { createBenchUser, openServerDatabase, type BenchUser } from './lib/fixtures.ts';
import { relativeUserFile } from '../src/lib/storage.ts';
import { newId } from '../src/lib/ids.ts';

const MB = 1024 * 1024;
const VIDEO_BYTES = 500 * MB;
const READ_RATE = 10 * MB;

/**
 * A finished 500 MB video (a sparse file with random blocks at known offsets, so Range
 * answers can be checked byte for byte) served to a client that reads 10 MB/s. A server
 * that does not wait for the socket to drain would hold the rest of the file in memory
 * within seconds (DESIGN.md §1), so a short read already shows it; `--full` reads it all.
 */

interface Marker {
  offset: number;
  bytes: Buffer;
}

function writeVideo(file: string): Marker[] {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const markers: Marker[] = [0, 1234567, 250 * MB + 17, VIDEO_BYTES - 65536].map((offset) => ({ offset, bytes: randomBytes(65536) }));
  // An MP4 starts with its ftyp box.
  markers[0]!.bytes.write('\u0000\u0000\u0000\u0018ftypmp42', 0, 'latin1');
  for (const m of markers) fs.writeSync(fd, m.bytes, 0, m.bytes.length, m.offset);
  fs.ftruncateSync(fd, VIDEO_BYTES);
  fs.closeSync(fd);
  return markers;
}

async function insertFinishedGeneration(databaseFile: string, user: BenchUser, relativePath: string): Promise<string> {
  const db = openServerDatabase(databaseFile);
  const id = newId('gen', Date.now());
  const now = Date.now();
  await db.run(
    `INSERT INTO generations (id, userId, status, step, duration, cost, charged, prompt, generation_mode, video_path,
       video_bytes, video_url, createdAt, updatedAt, completedAt)
     VALUES (?, ?, 'success', 'done', 6, 1, 1, 'bench', 'prompt', ?, ?, '/api/video/' || ?, ?, ?, ?)`,
    [id, user.userId, relativePath, VIDEO_BYTES, id, now, now, now],
  );
  db.close();
  return id;
}

/** Reads the response no faster than `bytesPerSecond` for at most `seconds`; TCP backpressure does the rest. */
function throttledRead(url: string, cookie: string, bytesPerSecond: number, seconds: number): Promise<{ bytes: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let bytes = 0;
    const req = http.get(url, { headers: { cookie }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`video answered ${res.statusCode}`));
      const finish = () => resolve({ bytes, seconds: (performance.now() - started) / 1000 });
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        const elapsed = (performance.now() - started) / 1000;
        if (elapsed >= seconds) {
          req.destroy();
          finish();
          return;
        }
        const ahead = bytes / bytesPerSecond - elapsed;
        if (ahead > 0) {
          res.pause();
          setTimeout(() => res.resume(), ahead * 1000);
        }
      });
      res.on('end', finish);
      res.on('error', reject);
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

async function checkRanges(url: string, cookie: string, markers: Marker[]): Promise<string[]> {
  const problems: string[] = [];
  const expectRange = async (range: string, start: number, end: number) => {
    const res = await fetch(url, { headers: { cookie, range } });
    const body = Buffer.from(await res.arrayBuffer());
    const expected = Buffer.alloc(end - start + 1);
    for (const m of markers) {
      const from = Math.max(start, m.offset);
      const to = Math.min(end + 1, m.offset + m.bytes.length);
      if (from < to) m.bytes.copy(expected, from - start, from - m.offset, to - m.offset);
    }
    if (res.status !== 206) problems.push(`${range}: HTTP ${res.status}`);
    else if (res.headers.get('content-range') !== `bytes ${start}-${end}/${VIDEO_BYTES}`) problems.push(`${range}: Content-Range ${res.headers.get('content-range')}`);
    else if (!body.equals(expected)) problems.push(`${range}: wrong bytes`);
  };
  await expectRange('bytes=0-1023', 0, 1023);
  await expectRange(`bytes=${1234567 + 100}-${1234567 + 70000}`, 1234567 + 100, 1234567 + 70000);
  await expectRange(`bytes=${250 * MB}-${250 * MB + 65535}`, 250 * MB, 250 * MB + 65535);
  await expectRange('bytes=-4096', VIDEO_BYTES - 4096, VIDEO_BYTES - 1);
  await expectRange(`bytes=${VIDEO_BYTES - 10}-`, VIDEO_BYTES - 10, VIDEO_BYTES - 1);
  const outside = await fetch(url, { headers: { cookie, range: `bytes=${VIDEO_BYTES}-` } });
  await outside.arrayBuffer();
  if (outside.status !== 416) problems.push(`range past the end: HTTP ${outside.status}, expected 416`);
  return problems;
}

export const serveBenchmark: Benchmark = {
  name: 'serve',
  title: '500 MB video to a 10 MB/s client',
  async run(options) {
    const server = await startBenchServer();
    try {
      const db = openServerDatabase(server.databaseFile);
      const user = await createBenchUser(db, 0);
      db.close();
      const relative = relativeUserFile(user.userId, 'videos', 'bench.mp4');
      const markers = writeVideo(path.join(server.storageDir, relative));
      const id = await insertFinishedGeneration(server.databaseFile, user, relative);
      const url = `${server.url}/api/video/${id}`;

      const problems = await checkRanges(url, user.cookie, markers);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const idleSampler = sampleMemory(server.pid);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const idle = idleSampler.stop().maxRss;

      const seconds = options.full ? VIDEO_BYTES / READ_RATE + 5 : Math.max(8, options.loadSeconds);
      const sampler = sampleMemory(server.pid);
      const read = await throttledRead(url, user.cookie, READ_RATE, seconds);
      const peak = sampler.stop().maxRss;
      const extraMb = (peak - idle) / MB;
      const results: BenchResult[] = [
        {
          bench: 'serve',
          figure: `server memory above idle, client reading ${(read.bytes / MB / read.seconds).toFixed(1)} MB/s for ${Math.round(read.bytes / MB)} of 500 MB`,
          value: extraMb,
          unit: 'MB',
          baseline: { label: 'idle RSS MB', value: idle / MB },
          ratio: peak / idle,
          target: '≤ idle + 64 MB',
          pass: extraMb <= 64,
        },
        {
          bench: 'serve',
          figure: 'Range answers checked byte for byte (5 ranges + 416)',
          value: 6 - problems.length,
          unit: 'of 6 correct',
          baseline: null,
          ratio: null,
          target: 'all correct',
          pass: problems.length === 0,
          ...(problems.length > 0 ? { note: problems.join('; ') } : {}),
        },
      ];
      return results;
    } finally {
      await server.stop();
    }
  },
};

if (isMain(import.meta.url)) await runAlone(serveBenchmark);

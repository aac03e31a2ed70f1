import { isMain, runAlone, type Benchmark } from './lib/report.ts';
import { sampleMemory, startBenchServer } from './lib/stack.ts';
import type { MinimaxEmulator } from '../sandbox/minimax/emulator.ts';
import { createBenchUser, FAST_MINIMAX, FAST_PIPELINE_ENV, openServerDatabase, requestGeneration, uploadPhoto, waitForGeneration } from './lib/fixtures.ts';

const MB = 1024 * 1024;
export const BIG_VIDEO_BYTES = 500 * MB;

/**
 * A whole generation through the built server whose MiniMax video is 500 MB (the sandbox
 * pads its MP4): the worker's download streams it from the sandbox's CDN into storage.
 * The server's resident memory is sampled every 50 ms; its peak is compared with the same
 * process idle just before.
 */
export const downloadBenchmark: Benchmark = {
  name: 'download',
  title: '500 MB video download into storage',
  async run() {
    const server = await startBenchServer({
      env: { ...FAST_PIPELINE_ENV, VIDEO_MAX_BYTES: String(BIG_VIDEO_BYTES) },
      minimax: FAST_MINIMAX,
    });
    try {
      const db = openServerDatabase(server.databaseFile);
      const user = await createBenchUser(db, 5);
      await uploadPhoto(server.url, user);
      // Idle means after one small generation, so every module and code path of the pipeline
      // is loaded: what remains is what the 500 MB download itself costs.
      const warm = await requestGeneration(server.url, user);
      if (warm.status !== 200 || !warm.generationId) throw new Error(`generate answered ${warm.status}`);
      await waitForGeneration(server.url, user, warm.generationId, 60_000);
      server.sandbox.emulator<MinimaxEmulator>('minimax').configure({ padVideoToBytes: BIG_VIDEO_BYTES });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const idleSampler = sampleMemory(server.pid);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const idle = idleSampler.stop().maxRss;

      const sampler = sampleMemory(server.pid);
      const started = performance.now();
      const { status, generationId } = await requestGeneration(server.url, user);
      if (status !== 200 || !generationId) throw new Error(`generate answered ${status}`);
      await waitForGeneration(server.url, user, generationId, 300_000);
      const seconds = (performance.now() - started) / 1000;
      const peak = sampler.stop();
      const bytes = (await db.value<number>('SELECT video_bytes FROM generations WHERE id = ?', [generationId]))!;
      if (bytes !== BIG_VIDEO_BYTES) throw new Error(`stored ${bytes} bytes, expected ${BIG_VIDEO_BYTES}`);
      db.close();
      const extraMb = (peak.maxRss - idle) / MB;
      return [
        {
          bench: 'download',
          figure: `server memory above idle while downloading ${Math.round(bytes / MB)} MB (${(bytes / MB / seconds).toFixed(0)} MB/s end to end)`,
          value: extraMb,
          unit: 'MB',
          baseline: { label: 'idle RSS MB', value: idle / MB },
          ratio: peak.maxRss / idle,
          target: '≤ idle + 64 MB',
          pass: extraMb <= 64,
        },
      ];
    } finally {
      await server.stop();
    }
  },
};

if (isMain(import.meta.url)) await runAlone(downloadBenchmark);

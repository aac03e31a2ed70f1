import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMain, runAlone, type Benchmark, type BenchResult } from './lib/report.ts';
import { readMemory } from './lib/stack.ts';
import { exportVideoArgs } from '../src/lib/video/export-render.ts';
import { EXPORT_TARGETS, type ExportTargetId } from '../src/lib/video/formats.ts';
import { loadConfig } from '../src/lib/config.ts';

/**
 * Marketplace exports: the time ffmpeg takes to make the 3:4 (Wildberries) and the 9:16
 * (Clips) file from a 10-second 768P clip, as a ratio to the clip's own length, and the peak
 * memory of that ffmpeg process. The arguments are Beem's own (`exportVideoArgs`, blurred fill,
 * the default encoder threads: CPU cores ÷ EXPORT_CONCURRENCY, which defaults to the cores).
 * The clip stands in for MiniMax's: 1366×768, 24 fps, H.264, with motion in every frame.
 */

const CLIP_SECONDS = 10;

function ffmpegPath(): string {
  const binary = process.env.FFMPEG_PATH ?? 'ffmpeg';
  if (spawnSync(binary, ['-version'], { stdio: 'ignore' }).status !== 0) throw new Error(`ffmpeg (${binary}) does not run: apt-get install -y ffmpeg`);
  return binary;
}

/** Runs ffmpeg and samples its resident memory; the largest VmHWM seen is its peak. */
function timedRun(ffmpeg: string, args: string[]): Promise<{ seconds: number; peakBytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let peak = 0;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const sample = setInterval(() => {
      try {
        // A process that is exiting has no VmHWM line any more (NaN): keep the last real figure.
        const { hwm } = readMemory(child.pid!);
        if (Number.isFinite(hwm)) peak = Math.max(peak, hwm);
      } catch {
        // ended between two samples
      }
    }, 20);
    child.on('close', (code) => {
      clearInterval(sample);
      if (code !== 0) reject(new Error(`ffmpeg failed: ${stderr.slice(-500)}`));
      else resolve({ seconds: (performance.now() - started) / 1000, peakBytes: peak });
    });
  });
}

export const exportsBenchmark: Benchmark = {
  name: 'exports',
  title: 'marketplace exports of a 10 s 768P clip',
  async run() {
    const ffmpeg = ffmpegPath();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-bench-exports-'));
    try {
      const clip = path.join(dir, 'clip.mp4');
      const made = spawnSync(ffmpeg, [
        '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=1366x768:r=24:d=${CLIP_SECONDS}`,
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', clip,
      ]);
      if (made.status !== 0) throw new Error(`could not make the test clip: ${made.stderr.toString().slice(-300)}`);
      const { config } = loadConfig({ NODE_ENV: 'test' });
      const threads = Math.max(1, Math.floor(os.availableParallelism() / config.video.exportConcurrency));
      const results: BenchResult[] = [];
      for (const target of ['wildberries', 'clips'] as ExportTargetId[]) {
        const spec = EXPORT_TARGETS[target];
        const job = { input: clip, output: path.join(dir, `${target}.mp4`), target: spec, fit: 'blur' as const, clipSeconds: CLIP_SECONDS, threads };
        await timedRun(ffmpeg, exportVideoArgs({ ...job, output: path.join(dir, 'warm-up.mp4') })); // page cache, first-run costs
        const run = await timedRun(ffmpeg, exportVideoArgs(job));
        const label = `${spec.format} ${target} ${spec.width}×${spec.height}`;
        results.push(
          {
            bench: 'exports',
            figure: `time to make the ${label} export (${threads} encoder thread${threads === 1 ? '' : 's'})`,
            value: run.seconds,
            unit: 's',
            baseline: { label: 'clip length s', value: CLIP_SECONDS },
            ratio: run.seconds / CLIP_SECONDS,
            target: 'reported',
            pass: null,
          },
          {
            bench: 'exports',
            figure: `peak memory of ffmpeg making the ${label} export`,
            value: run.peakBytes / (1024 * 1024),
            unit: 'MB',
            baseline: null,
            ratio: null,
            target: 'reported',
            pass: null,
          },
        );
      }
      return results;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (isMain(import.meta.url)) await runAlone(exportsBenchmark);

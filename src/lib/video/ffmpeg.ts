import { spawn, spawnSync } from 'node:child_process';

/**
 * ffmpeg as a tool of this process: found once at start (`FFMPEG_PATH`, default `ffmpeg` on
 * PATH), and run with a bound on how many run at once (one per CPU core by default) and a
 * timeout after which the process is killed. Without ffmpeg Beem still serves originals;
 * posters fall back to the cropped first frame and exports are not offered.
 */

export interface FfmpegRunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export class FfmpegError extends Error {
  constructor(
    readonly code: 'FFMPEG_TIMEOUT' | 'FFMPEG_FAILED' | 'FFMPEG_MISSING' | 'FFMPEG_ABORTED',
    message: string,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

export interface Ffmpeg {
  /** The binary that answered `-version` at start, or null. */
  readonly path: string | null;
  readonly available: boolean;
  /** Runs ffmpeg with `args` once a slot is free; rejects with FfmpegError. */
  run(args: string[], options: FfmpegRunOptions): Promise<void>;
  /** ffmpeg processes running now (not waiting). */
  running(): number;
}

/** Whether `binary -version` runs; a missing or broken binary answers false, never throws. */
export function probeFfmpeg(binary: string): boolean {
  try {
    const probe = spawnSync(binary, ['-hide_banner', '-version'], { stdio: 'ignore', timeout: 10_000 });
    return probe.status === 0;
  } catch {
    return false;
  }
}

export function createFfmpeg(options: { path: string; concurrency: number; available?: boolean }): Ffmpeg {
  const available = options.available ?? probeFfmpeg(options.path);
  let active = 0;
  const waiting: Array<() => void> = [];

  async function slot<T>(task: () => Promise<T>): Promise<T> {
    if (active >= options.concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await task();
    } finally {
      // The slot goes straight to the next waiter, so a newcomer cannot overtake it.
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  }

  function spawnOnce(args: string[], run: FfmpegRunOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      if (run.signal?.aborted) return reject(new FfmpegError('FFMPEG_ABORTED', 'stopped before it started'));
      const child = spawn(options.path, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      let why: FfmpegError | null = null;
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      const stop = (error: FfmpegError) => {
        why = error;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => stop(new FfmpegError('FFMPEG_TIMEOUT', `ffmpeg ran longer than ${run.timeoutMs} ms`)), run.timeoutMs);
      const onAbort = () => stop(new FfmpegError('FFMPEG_ABORTED', 'ffmpeg stopped (shutdown)'));
      run.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        run.signal?.removeEventListener('abort', onAbort);
      };
      child.on('error', (err) => {
        done();
        reject(new FfmpegError('FFMPEG_MISSING', err.message));
      });
      child.on('close', (code, signal) => {
        done();
        if (why) reject(why);
        else if (code === 0) resolve();
        else reject(new FfmpegError('FFMPEG_FAILED', `ffmpeg exited with ${signal ?? code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      });
    });
  }

  return {
    path: available ? options.path : null,
    available,
    run(args, run) {
      if (!available) return Promise.reject(new FfmpegError('FFMPEG_MISSING', `ffmpeg (${options.path}) does not run`));
      return slot(() => spawnOnce(args, run));
    },
    running: () => active,
  };
}

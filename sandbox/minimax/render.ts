import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { CameraMotion } from './rules.ts';
import { makeStillClip } from './still-clip.ts';

/**
 * Makes the MP4 a task delivers: the submitted first frame animated with the camera motion
 * of the prompt's first command, rendered by ffmpeg (H.264, yuv420p, +faststart so browsers
 * play it). Without ffmpeg the first frame is written as a still H.264 clip of the same size,
 * length and frame rate (still-clip.ts): the shape and length tests see are the real ones.
 *
 * Size cap: the rendered short side is at most `maxShortSide` (default 480 px) at `fps`
 * (default 24), whatever resolution was asked; the query still reports the nominal size.
 * Measured on a 2-core machine: 6 s at 854×480 with a zoom takes ~0.8 s, 10 s ~1.5 s.
 */

/** 'auto' finds ffmpeg on this machine; null forces the still clip (tests of the fallback). */
export type FfmpegSetting = string | null | 'auto';

export function resolveFfmpeg(setting: FfmpegSetting): string | null {
  if (setting === null) return null;
  const candidates = setting === 'auto' ? ['/usr/bin/ffmpeg', '/usr/local/bin/ffmpeg', 'ffmpeg'] : [setting];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-hide_banner', '-version'], { stdio: 'ignore', timeout: 5000 });
    if (probe.status === 0) return candidate;
  }
  return null;
}

export interface RenderJob {
  /** Image bytes (any format sharp reads) or null for a plain background (text-only templates). */
  image: Buffer | null;
  motion: CameraMotion | null;
  durationSec: number;
  width: number;
  height: number;
  fps: number;
  /** Drawn at the bottom when given (templates show their name and text). */
  label: string | null;
  outputFile: string;
}

export interface RenderResult {
  renderer: 'ffmpeg' | 'still';
  bytes: number;
  ms: number;
}

/** Canvas bigger than the output by this factor leaves room for the crop window to move. */
function marginFor(motion: CameraMotion | null): number {
  if (motion === 'static') return 1;
  if (motion === 'shake') return 1.1;
  if (isZoom(motion)) return 2; // zoompan rounds to whole pixels: a 2× canvas keeps it smooth
  return 1.3;
}

function isZoom(motion: CameraMotion | null): boolean {
  return motion === null || motion === 'push_in' || motion === 'pull_out' || motion === 'zoom_in' || motion === 'zoom_out';
}

const even = (v: number) => Math.max(2, Math.round(v / 2) * 2);

/** The ffmpeg filter that moves a W×H window over the canvas. Expressions avoid commas on purpose. */
export function motionFilter(motion: CameraMotion | null, job: { durationSec: number; width: number; height: number; fps: number }): string {
  const { durationSec: d, width: w, height: h, fps } = job;
  const ease = `((1-cos(PI*t/${d}))/2)`;
  const center = { x: '(iw-ow)/2', y: '(ih-oh)/2' };
  const crop = (x: string, y: string) => `crop=${w}:${h}:x='${x}':y='${y}'`;
  if (isZoom(motion)) {
    const frames = Math.round(d * fps);
    const e = `((1-cos(PI*on/${frames}))/2)`;
    const zooms: Record<string, string> = {
      push_in: `1+0.3*${e}`,
      zoom_in: `1+0.5*${e}`,
      pull_out: `1.3-0.3*${e}`,
      zoom_out: `1.5-0.5*${e}`,
    };
    // No command at all: a gentle push in, so the clip is never a still picture.
    const z = zooms[motion ?? ''] ?? `1+0.12*${e}`;
    return `zoompan=z='${z}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=${w}x${h}:fps=${fps}`;
  }
  switch (motion) {
    case 'pan_left':
    case 'truck_left':
      return crop(`(iw-ow)*(1-${ease})`, center.y);
    case 'pan_right':
    case 'truck_right':
      return crop(`(iw-ow)*${ease}`, center.y);
    case 'tilt_up':
    case 'pedestal_up':
      return crop(center.x, `(ih-oh)*(1-${ease})`);
    case 'tilt_down':
    case 'pedestal_down':
      return crop(center.x, `(ih-oh)*${ease}`);
    case 'tracking':
      return crop(`(iw-ow)*0.8*${ease}`, `(ih-oh)/2+(ih-oh)*0.25*sin(2*PI*t*1.5)`);
    case 'shake':
      return crop(`(iw-ow)/2+(iw-ow)*0.4*sin(2*PI*t*2.3)`, `(ih-oh)/2+(ih-oh)*0.4*cos(2*PI*t*3.1)`);
    default:
      return crop(center.x, center.y);
  }
}

function runFfmpeg(ffmpeg: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg failed (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

async function renderWithFfmpeg(ffmpeg: string, job: RenderJob): Promise<void> {
  const work = `${job.outputFile}.work`;
  fs.mkdirSync(work, { recursive: true });
  try {
    const margin = marginFor(job.motion);
    const canvas = { width: even(job.width * margin), height: even(job.height * margin) };
    const input: string[] = [];
    if (job.image) {
      const still = path.join(work, 'frame.jpg');
      // sharp applies EXIF rotation and crops to the output's aspect: ffmpeg gets a ready canvas.
      await sharp(job.image).rotate().resize(canvas.width, canvas.height, { fit: 'cover' }).jpeg({ quality: 90 }).toFile(still);
      input.push('-loop', '1', '-framerate', String(job.fps), '-i', still);
    } else {
      input.push('-f', 'lavfi', '-i', `color=c=0x1e293b:s=${canvas.width}x${canvas.height}:r=${job.fps}`);
    }
    const filters = [motionFilter(job.motion, job)];
    const output = [
      '-t', String(job.durationSec), '-r', String(job.fps),
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-pix_fmt', 'yuv420p',
      '-movflags', '+faststart', '-an', '-f', 'mp4', `${job.outputFile}.part`,
    ];
    const base = ['-hide_banner', '-loglevel', 'error', '-y', ...input];
    if (job.label) {
      const textFile = path.join(work, 'label.txt');
      fs.writeFileSync(textFile, job.label);
      const fontSize = Math.max(12, Math.round(job.height / 18));
      const drawtext = `drawtext=textfile='${textFile}':expansion=none:fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=black@0.45:boxborderw=8:x=(w-tw)/2:y=h-th-${fontSize}`;
      try {
        await runFfmpeg(ffmpeg, [...base, '-vf', [...filters, drawtext, 'format=yuv420p'].join(','), ...output], 60_000);
        fs.renameSync(`${job.outputFile}.part`, job.outputFile);
        return;
      } catch {
        // No usable font on this machine: the clip without its caption is still a fine answer.
      }
    }
    await runFfmpeg(ffmpeg, [...base, '-vf', [...filters, 'format=yuv420p'].join(','), ...output], 60_000);
    fs.renameSync(`${job.outputFile}.part`, job.outputFile);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export async function renderVideo(ffmpeg: string | null, job: RenderJob): Promise<RenderResult> {
  const started = Date.now();
  if (ffmpeg) {
    await renderWithFfmpeg(ffmpeg, job);
  } else {
    const clip = await makeStillClip({ image: job.image, width: job.width, height: job.height, fps: job.fps, durationSec: job.durationSec });
    fs.writeFileSync(`${job.outputFile}.part`, clip);
    fs.renameSync(`${job.outputFile}.part`, job.outputFile);
  }
  return { renderer: ffmpeg ? 'ffmpeg' : 'still', bytes: fs.statSync(job.outputFile).size, ms: Date.now() - started };
}

/** Runs at most `limit` renders at once: the machine is small and shared. */
export class RenderQueue {
  private running = 0;
  private waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter so a newcomer cannot slip in between.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

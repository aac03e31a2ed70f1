import fs from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import type { Ffmpeg } from './ffmpeg.ts';
import { loopCount, type ExportFit, type ExportTarget } from './formats.ts';

/**
 * How an export is made from the stored original. Video: ffmpeg, H.264 High, yuv420p,
 * `+faststart`, the target's size (never stretched: the picture is either fitted over a blurred,
 * filled copy of itself or cropped to fill), looped to the target's minimum length in whole
 * plays, cut to its maximum, and without audio where the target plays muted. Cover: the
 * poster at the target's size, the same way, with sharp.
 */

export interface ExportVideoJob {
  input: string;
  /** Written whole: the caller renames it into place. */
  output: string;
  target: ExportTarget;
  fit: ExportFit;
  /** The original's length, for the loop count. */
  clipSeconds: number;
  /** Encoder threads: the CPU is shared among the exports running at once. */
  threads: number;
}

/** The filter graph that brings any picture to W×H without stretching it. */
export function fitFilter(fit: ExportFit, width: number, height: number): string {
  if (fit === 'crop') {
    return `[0:v]scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},setsar=1,format=yuv420p[v]`;
  }
  // The blurred fill is made small and scaled up: as soft, and a fraction of the work.
  const sw = Math.round(width / 8 / 2) * 2;
  const sh = Math.round(height / 8 / 2) * 2;
  return (
    `[0:v]split=2[bgsrc][fgsrc];` +
    `[bgsrc]scale=${sw}:${sh}:force_original_aspect_ratio=increase,crop=${sw}:${sh},boxblur=8:2,scale=${width}:${height},setsar=1[bg];` +
    `[fgsrc]scale=${width}:${height}:force_original_aspect_ratio=decrease[fg];` +
    `[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1,format=yuv420p[v]`
  );
}

/** ffmpeg's arguments for one export (after the global ones `-hide_banner -y …`). */
export function exportVideoArgs(job: ExportVideoJob): string[] {
  const { target } = job;
  const plays = loopCount(target, job.clipSeconds);
  const args: string[] = [];
  if (plays > 1) args.push('-stream_loop', String(plays - 1));
  args.push('-i', job.input, '-filter_complex', fitFilter(job.fit, target.width, target.height), '-map', '[v]');
  if (target.silent) args.push('-an');
  else args.push('-map', '0:a:0?', '-c:a', 'aac', '-b:a', '128k');
  if (target.maxSeconds !== null) args.push('-t', String(target.maxSeconds));
  args.push(
    '-c:v', 'libx264', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-preset', 'veryfast', '-crf', '20',
    '-maxrate', '10M', '-bufsize', '20M', '-threads', String(Math.max(1, job.threads)),
    '-movflags', '+faststart', '-f', 'mp4', job.output,
  );
  return args;
}

export async function renderExportVideo(ffmpeg: Ffmpeg, job: ExportVideoJob, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  await ffmpeg.run(exportVideoArgs(job), options);
}

/** The poster at the target's size, fitted over a blurred copy of itself or cropped to fill. */
export async function renderCover(poster: string, output: string, target: ExportTarget, fit: ExportFit): Promise<void> {
  const { width, height } = target;
  const image = await fs.promises.readFile(poster);
  let picture: Sharp;
  if (fit === 'crop') {
    picture = sharp(image).resize(width, height, { fit: 'cover' });
  } else {
    const background = await sharp(image).resize(Math.round(width / 8), Math.round(height / 8), { fit: 'cover' }).blur(4).resize(width, height).toBuffer();
    const front = await sharp(image).resize(width, height, { fit: 'inside' }).toBuffer();
    picture = sharp(background).composite([{ input: front, gravity: 'centre' }]);
  }
  await picture.jpeg({ quality: 88, mozjpeg: true }).toFile(output);
}

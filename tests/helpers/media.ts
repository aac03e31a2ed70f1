import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { resolveFfmpeg } from '../../sandbox/minimax/render.ts';

/** ffmpeg and ffprobe of this machine (Debian's `ffmpeg` package has both), or null. */
export const FFMPEG = resolveFfmpeg('auto');
export const FFPROBE = FFMPEG ? path.join(path.dirname(FFMPEG), 'ffprobe') : null;

/**
 * Tests that need ffmpeg are skipped only when asked (`BEEM_SKIP_FFMPEG=1`), like the browser
 * tests: ffmpeg is one of Beem's dependencies (.ci/run installs it), so a machine without it
 * must fail those tests, not pass them by skipping.
 */
export const skipFfmpeg = process.env.BEEM_SKIP_FFMPEG === '1';

/** ffmpeg and ffprobe, or an error saying how to install them. */
export function requireFfmpeg(): { ffmpeg: string; ffprobe: string } {
  if (!FFMPEG || !FFPROBE || !fs.existsSync(FFPROBE)) {
    throw new Error(
      'These tests need ffmpeg and ffprobe, and they are not on PATH.\n' +
        '  Install them:  sudo apt-get install -y ffmpeg   (Debian/Ubuntu; .ci/run does this)\n' +
        '  or skip them:  BEEM_SKIP_FFMPEG=1 npm test',
    );
  }
  return { ffmpeg: FFMPEG, ffprobe: FFPROBE };
}

export interface Probe {
  codec: string;
  profile: string;
  pixFmt: string;
  width: number;
  height: number;
  duration: number;
  audio: boolean;
}

/** What ffprobe reads of a video file. */
export function probeVideo(file: string): Probe {
  const out = spawnSync(
    FFPROBE!,
    ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,profile,pix_fmt,width,height', '-of', 'json', file],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`ffprobe failed: ${out.stderr}`);
  const json = JSON.parse(out.stdout) as {
    format: { duration: string };
    streams: Array<{ codec_type: string; codec_name: string; profile?: string; pix_fmt?: string; width?: number; height?: number }>;
  };
  const video = json.streams.find((s) => s.codec_type === 'video')!;
  return {
    codec: video.codec_name,
    profile: video.profile ?? '',
    pixFmt: video.pix_fmt ?? '',
    width: video.width ?? 0,
    height: video.height ?? 0,
    duration: Number(json.format.duration),
    audio: json.streams.some((s) => s.codec_type === 'audio'),
  };
}

/** The order of an MP4's top-level boxes (`ftyp`, `moov`, `mdat` …). */
export function topLevelBoxes(file: string): string[] {
  const bytes = fs.readFileSync(file);
  const boxes: string[] = [];
  let at = 0;
  while (at + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(at);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    if (size < 8) break;
    boxes.push(bytes.toString('latin1', at + 4, at + 8));
    at += size;
  }
  return boxes;
}

export async function imageSize(bytes: Buffer): Promise<{ width: number; height: number; format: string }> {
  const meta = await sharp(bytes).metadata();
  return { width: meta.width!, height: meta.height!, format: meta.format! };
}

/** A stand-in for an ffmpeg that hangs: it answers `-version` like ffmpeg and then never finishes a job. */
export function hangingFfmpeg(dir: string): string {
  const file = path.join(dir, 'ffmpeg-that-hangs');
  fs.writeFileSync(file, '#!/bin/sh\nfor a in "$@"; do [ "$a" = "-version" ] && exit 0; done\nexec sleep 60\n', { mode: 0o755 });
  return file;
}

/**
 * A stand-in ffmpeg whose exports hang (they hold their slot until killed) and whose posters
 * wait at a gate: once `open()` is called each waiting poster writes a 120×160 JPEG.
 */
export async function gatedPosterFfmpeg(dir: string): Promise<{ path: string; open(): void }> {
  const file = path.join(dir, 'ffmpeg-gated-posters');
  const gate = path.join(dir, 'posters-may-go');
  const jpeg = path.join(dir, 'stand-in-poster.jpg');
  await sharp({ create: { width: 120, height: 160, channels: 3, background: '#806040' } }).jpeg().toFile(jpeg);
  fs.writeFileSync(
    file,
    [
      '#!/bin/sh',
      'poster=no',
      'for a in "$@"; do [ "$a" = "-version" ] && exit 0; [ "$a" = "-frames:v" ] && poster=yes; last="$a"; done',
      '[ "$poster" = no ] && exec sleep 600',
      `while [ ! -f '${gate}' ]; do sleep 0.05; done`,
      `exec cp '${jpeg}' "$last"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return { path: file, open: () => fs.writeFileSync(gate, '') };
}

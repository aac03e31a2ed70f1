import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { renderVideo } from '../../../sandbox/minimax/render.ts';
import { FFMPEG, FFPROBE, requireFfmpeg, skipFfmpeg } from '../../helpers/media.ts';
import { readMp4Info } from '../../../src/lib/video/mp4-info.ts';
import type { CameraMotion } from '../../../sandbox/minimax/rules.ts';
import { imageDataUrl, isMp4, startMinimax } from '../../../sandbox/minimax/test-support.ts';

const ffmpeg = FFMPEG;
const ffprobe = FFPROBE;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-render-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function probe(file: string): { duration: number; width: number; height: number; codec: string; pixFmt: string } {
  const out = spawnSync(ffprobe!, ['-v', 'error', '-show_entries', 'format=duration:stream=width,height,codec_name,pix_fmt', '-of', 'json', file], { encoding: 'utf8' });
  const json = JSON.parse(out.stdout) as { format: { duration: string }; streams: Array<{ width: number; height: number; codec_name: string; pix_fmt: string }> };
  const stream = json.streams[0]!;
  return { duration: Number(json.format.duration), width: stream.width, height: stream.height, codec: stream.codec_name, pixFmt: stream.pix_fmt };
}

async function photo(width: number, height: number): Promise<Buffer> {
  return Buffer.from((await imageDataUrl(width, height)).split(',')[1]!, 'base64');
}

describe('the still clip served without ffmpeg', () => {
  it.each([
    [640, 480, 6, 12],
    [480, 640, 10, 24],
    [270, 480, 6, 12],
    [120, 120, 1, 6],
  ])('is a real H.264 MP4 of the first frame at %i×%i, %i s at %i fps', async (width, height, seconds, fps) => {
    const out = path.join(dir, `still-${width}x${height}.mp4`);
    const result = await renderVideo(null, { image: await photo(1200, 900), motion: 'push_in', durationSec: seconds, width, height, fps, label: null, outputFile: out });
    expect(result.renderer).toBe('still');
    expect(isMp4(fs.readFileSync(out))).toBe(true);
    // What a machine without ffprobe can check: the MP4's own header.
    const info = await readMp4Info(out);
    expect(info).toMatchObject({ width, height, durationMs: seconds * 1000, moovFirst: true, tracks: ['vide'] });
    if (!skipFfmpeg) {
      requireFfmpeg();
      expect(probe(out)).toMatchObject({ width, height, codec: 'h264', pixFmt: 'yuv420p' });
      expect(probe(out).duration).toBeCloseTo(seconds, 2);
      // Every frame decodes (a broken bitstream makes ffmpeg exit non-zero).
      expect(spawnSync(ffmpeg!, ['-v', 'error', '-xerror', '-i', out, '-f', 'null', '-']).status).toBe(0);
    }
  });

  it.skipIf(skipFfmpeg)('shows the photo: its centre and its edges decode to the photo’s colours', async () => {
    requireFfmpeg();
    const out = path.join(dir, 'still-colours.mp4');
    await renderVideo(null, { image: await photo(900, 900), motion: null, durationSec: 2, width: 96, height: 96, fps: 6, label: null, outputFile: out });
    const frame = spawnSync(ffmpeg!, ['-v', 'error', '-ss', '1', '-i', out, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 20 }).stdout;
    const pixel = (x: number, y: number) => [...frame.subarray((y * 96 + x) * 3, (y * 96 + x) * 3 + 3)];
    // testPhoto: an orange field (200, 120, 40) with a blue square (20, 60, 200) in the middle third.
    for (const [value, expected] of [...pixel(4, 4).map((v, i) => [v, [200, 120, 40][i]!]), ...pixel(48, 48).map((v, i) => [v, [20, 60, 200][i]!])]) {
      expect(Math.abs(value! - expected!)).toBeLessThan(12);
    }
  });

  it('is what a task delivers without ffmpeg: the first frame’s shape and the asked length', async () => {
    const h = await startMinimax({ render: { ffmpeg: null } });
    try {
      const { json } = await h.call('/v1/video_generation', {
        body: { model: 'MiniMax-Hailuo-2.3', prompt: 'x', first_frame_image: await imageDataUrl(600, 800), duration: 10 },
      });
      const done = await h.minimax.waitForTask(json.task_id);
      expect(done.video).toMatchObject({ renderer: 'still', width: 120, height: 160 });
      expect(h.minimax.state().ffmpeg).toBeNull();
      const url = (await h.call(`/v1/files/retrieve?file_id=${done.fileId}`)).json.file.download_url;
      const file = path.join(dir, 'task-still.mp4');
      fs.writeFileSync(file, Buffer.from(await (await fetch(url)).arrayBuffer()));
      expect(await readMp4Info(file)).toMatchObject({ width: 120, height: 160, durationMs: 10_000 });
    } finally {
      await h.close();
    }
  });

  it('makes template tasks follow the media image’s shape too', async () => {
    const h = await startMinimax({ render: { ffmpeg: null } });
    try {
      const { json } = await h.call('/v1/video_template_generation', {
        body: { template_id: '394176968202485769', media_inputs: [{ value: await imageDataUrl(540, 960) }] },
      });
      expect(json.base_resp.status_code).toBe(0);
      const done = await h.minimax.waitForTask(json.task_id);
      const file = path.join(dir, 'template-still.mp4');
      fs.writeFileSync(file, Buffer.from(await (await fetch(done.videoUrl!)).arrayBuffer()));
      const info = await readMp4Info(file);
      expect(info!.height / info!.width).toBeCloseTo(16 / 9, 1);
      expect(info!.durationMs).toBe(6_000);
    } finally {
      await h.close();
    }
  });
});

describe.skipIf(skipFfmpeg)('ffmpeg rendering', () => {
  beforeAll(() => {
    requireFfmpeg();
  });
  it('renders a browser-playable H.264 MP4 of the requested duration and size', async () => {
    const out = path.join(dir, 'ten.mp4');
    const result = await renderVideo(ffmpeg, { image: await photo(1200, 900), motion: 'push_in', durationSec: 10, width: 160, height: 120, fps: 12, label: null, outputFile: out });
    expect(result.renderer).toBe('ffmpeg');
    const bytes = fs.readFileSync(out);
    expect(isMp4(bytes)).toBe(true);
    // +faststart: the moov box comes before the media data.
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat'));
    const info = probe(out);
    expect(info.duration).toBeGreaterThan(9.8);
    expect(info.duration).toBeLessThan(10.2);
    expect(info).toMatchObject({ width: 160, height: 120, codec: 'h264', pixFmt: 'yuv420p' });
  });

  it('renders every camera motion, a caption, and a plain background without an image', async () => {
    const image = await photo(640, 360);
    const motions: Array<CameraMotion | null> = [
      'push_in', 'pull_out', 'pan_left', 'pan_right', 'truck_left', 'truck_right', 'tilt_up', 'tilt_down',
      'pedestal_up', 'pedestal_down', 'zoom_in', 'zoom_out', 'shake', 'tracking', 'static', null,
    ];
    for (const motion of motions) {
      const out = path.join(dir, `${motion ?? 'none'}.mp4`);
      await renderVideo(ffmpeg, { image, motion, durationSec: 1, width: 64, height: 36, fps: 6, label: null, outputFile: out });
      expect(probe(out)).toMatchObject({ width: 64, height: 36 });
    }
    const captioned = path.join(dir, 'caption.mp4');
    await renderVideo(ffmpeg, { image: null, motion: null, durationSec: 1, width: 128, height: 72, fps: 6, label: "Art Fonts · 50% OFF: 'now'", outputFile: captioned });
    expect(probe(captioned)).toMatchObject({ width: 128, height: 72 });
  });

  it('moves the picture the way the command says (pan right shows the right side at the end)', async () => {
    // Left half black, right half white: panning right ends brighter than it starts.
    const image = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#000' } })
      .composite([{ input: await sharp({ create: { width: 400, height: 400, channels: 3, background: '#fff' } }).png().toBuffer(), left: 400, top: 0 }])
      .png()
      .toBuffer();
    const out = path.join(dir, 'pan.mp4');
    await renderVideo(ffmpeg, { image, motion: 'pan_right', durationSec: 2, width: 120, height: 120, fps: 6, label: null, outputFile: out });
    const brightness = (seconds: string) => {
      const frame = spawnSync(ffmpeg!, ['-v', 'error', '-ss', seconds, '-i', out, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 1 << 20 });
      const pixels = frame.stdout as Buffer;
      return pixels.reduce((sum, p) => sum + p, 0) / pixels.length;
    };
    expect(brightness('1.8')).toBeGreaterThan(brightness('0') + 20);
  });

  it('leaves no files behind when the sandbox closes during a render', async () => {
    const h = await startMinimax({ render: { maxShortSide: 240 } });
    const { json } = await h.call('/v1/video_generation', {
      body: { model: 'MiniMax-Hailuo-2.3', prompt: '[Zoom in]', first_frame_image: await imageDataUrl(1280, 720), duration: 10 },
    });
    expect(json.base_resp.status_code).toBe(0);
    const videoDir = h.minimax.state().videoDir!;
    expect(fs.existsSync(videoDir)).toBe(true);
    await h.close();
    expect(fs.existsSync(videoDir)).toBe(false);
  });

  it('keeps a task in Processing until its video exists', async () => {
    const h = await startMinimax({ stepMs: { preparing: 0, queueing: 0, processing: 0 }, render: { maxShortSide: 240 } });
    try {
      const { json } = await h.call('/v1/video_generation', {
        body: { model: 'MiniMax-Hailuo-2.3', prompt: '[Shake]', first_frame_image: await imageDataUrl(1280, 720), duration: 10 },
      });
      const done = await h.minimax.waitForTask(json.task_id);
      expect(done.status).toBe('Success');
      expect(done.video).toMatchObject({ renderer: 'ffmpeg', width: 426, height: 240 });
      const url = (await h.call(`/v1/files/retrieve?file_id=${done.fileId}`)).json.file.download_url;
      const file = path.join(dir, 'task.mp4');
      fs.writeFileSync(file, Buffer.from(await (await fetch(url)).arrayBuffer()));
      expect(probe(file).duration).toBeCloseTo(10, 0);
    } finally {
      await h.close();
    }
  });
});

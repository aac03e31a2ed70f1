import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../blobs/index.ts';

/**
 * What the MP4 itself says about its video: the picture size (the video track's `tkhd`), its
 * length (`mvhd`) and whether `moov` comes before `mdat` (+faststart). Read from the box
 * headers only, so it needs no ffprobe and no more than the `moov` box in memory.
 */

export interface Mp4Info {
  width: number;
  height: number;
  durationMs: number;
  /** The index (`moov`) is written before the media (`mdat`): playback starts before the whole file arrives. */
  moovFirst: boolean;
  /** Track handler types in order (`vide`, `soun`). */
  tracks: string[];
}

const MAX_MOOV_BYTES = 32 * 1024 * 1024;

interface Box {
  type: string;
  start: number;
  size: number;
  header: number;
}

function readBoxes(buffer: Buffer, from: number, to: number): Box[] {
  const boxes: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = buffer.readUInt32BE(at);
    const type = buffer.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) break;
      size = Number(buffer.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || at + size > to) break;
    boxes.push({ type, start: at, size, header });
    at += size;
  }
  return boxes;
}

const child = (buffer: Buffer, box: Box, type: string) => readBoxes(buffer, box.start + box.header, box.start + box.size).find((b) => b.type === type);

/** Bytes at a position of a file or a blob; fewer at its end. */
interface RandomAccess {
  size: number;
  read(position: number, length: number): Promise<Buffer>;
}

/** Reads the file's top-level boxes and its `moov`; null when it is not an MP4 this can read. */
export async function readMp4Info(file: string): Promise<Mp4Info | null> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    return await readMp4InfoFrom({
      size,
      async read(position, length) {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        return buffer.subarray(0, bytesRead);
      },
    });
  } finally {
    await handle.close();
  }
}

/**
 * The same from a stored video, by ranged reads (one per top-level box and one of `moov`),
 * so a video in a bucket is not fetched whole for its header. Null when there is no such blob.
 */
export async function readStoredMp4Info(store: BlobStore, key: string): Promise<Mp4Info | null> {
  const info = await store.head(key);
  if (!info) return null;
  return readMp4InfoFrom({
    size: info.size,
    read: async (position, length) => readAll((await store.openRead(key, { start: position, end: position + length - 1 })).body),
  });
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readMp4InfoFrom(source: RandomAccess): Promise<Mp4Info | null> {
  const fileSize = source.size;
  let at = 0;
  let moov: Buffer | null = null;
  let mdatSeen = false;
  let moovFirst = false;
  while (at + 8 <= fileSize) {
    const head = await source.read(at, 16);
    const bytesRead = head.length;
    if (bytesRead < 8) break;
    let size = head.readUInt32BE(0);
    const type = head.toString('latin1', 4, 8);
    if (size === 1 && bytesRead >= 16) size = Number(head.readBigUInt64BE(8));
    else if (size === 0) size = fileSize - at;
    if (size < 8) return null;
    if (at === 0 && type !== 'ftyp') return null;
    if (type === 'mdat') mdatSeen = true;
    if (type === 'moov') {
      if (size > MAX_MOOV_BYTES) return null;
      moov = await source.read(at, size);
      moovFirst = !mdatSeen;
    }
    at += size;
  }
  if (!moov) return null;
  return parseMoov(moov, moovFirst);
}

function parseMoov(moov: Buffer, moovFirst: boolean): Mp4Info | null {
  const [root] = readBoxes(moov, 0, moov.length);
  if (!root || root.type !== 'moov') return null;
  const mvhd = child(moov, root, 'mvhd');
  if (!mvhd) return null;
  const body = mvhd.start + mvhd.header;
  const version = moov.readUInt8(body);
  const timescale = version === 1 ? moov.readUInt32BE(body + 20) : moov.readUInt32BE(body + 12);
  const duration = version === 1 ? Number(moov.readBigUInt64BE(body + 24)) : moov.readUInt32BE(body + 16);
  const tracks: string[] = [];
  let width = 0;
  let height = 0;
  for (const trak of readBoxes(moov, root.start + root.header, root.start + root.size).filter((b) => b.type === 'trak')) {
    const mdia = child(moov, trak, 'mdia');
    const hdlr = mdia && child(moov, mdia, 'hdlr');
    const kind = hdlr ? moov.toString('latin1', hdlr.start + hdlr.header + 8, hdlr.start + hdlr.header + 12) : '????';
    tracks.push(kind);
    const tkhd = child(moov, trak, 'tkhd');
    if (kind === 'vide' && tkhd && width === 0) {
      // Width and height are the last two fields of tkhd, 16.16 fixed point.
      const end = tkhd.start + tkhd.size;
      width = Math.round(moov.readUInt32BE(end - 8) / 65536);
      height = Math.round(moov.readUInt32BE(end - 4) / 65536);
    }
  }
  if (width === 0 || height === 0 || timescale === 0) return null;
  return { width, height, durationMs: Math.round((duration / timescale) * 1000), moovFirst, tracks };
}

/**
 * Video shapes and where they go: the formats a seller picks before generating, the first-frame
 * crop each needs, and the marketplace export targets. Plain values and arithmetic only (no
 * Node, no sharp), so the browser script imports the same table and the same rules.
 */

/** MiniMax refuses a first frame whose short side is 300 px or less (reference §3). */
export const MIN_FRAME_SHORT_SIDE = 301;
/** MiniMax accepts aspect ratios from 2:5 to 5:2 (reference §3). */
export const MAX_FRAME_ASPECT = 5 / 2;
/** A crop smaller than MiniMax's minimum is enlarged at most this much; more would only blur. */
export const MAX_UPSCALE = 2;

export const VIDEO_FORMATS = ['original', '3:4', '9:16', '1:1', '16:9'] as const;
export type VideoFormat = (typeof VIDEO_FORMATS)[number];
export type CropFormat = Exclude<VideoFormat, 'original'>;

/** Width ÷ height of each cropped format. */
export const FORMAT_RATIO: Record<CropFormat, number> = { '3:4': 3 / 4, '9:16': 9 / 16, '1:1': 1, '16:9': 16 / 9 };

/** `3:4` → `3x4`: for file names and download names. */
export function formatSlug(format: VideoFormat): string {
  return format.replace(':', 'x');
}

export function isVideoFormat(value: unknown): value is VideoFormat {
  return typeof value === 'string' && (VIDEO_FORMATS as readonly string[]).includes(value);
}

/** Where the product should stay in the frame, 0..1 of the photo's width and height. */
export interface Focus {
  x: number;
  y: number;
}

/** Focus is kept in thousandths: the preview and the frame sent are cut from the same numbers. */
export function roundFocus(focus: Focus): Focus {
  const round = (v: number) => Math.min(1000, Math.max(0, Math.round(v * 1000))) / 1000;
  return { x: round(focus.x), y: round(focus.y) };
}

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export type FramePlan =
  | {
      ok: true;
      /** The part of the photo kept (the whole photo for `original`). */
      crop: Rect;
      /** The first frame's size: the crop, enlarged when it is under MiniMax's minimum. */
      output: { width: number; height: number };
      /** 1 when not enlarged. */
      upscale: number;
    }
  | { ok: false; code: 'IMAGE_TOO_SMALL' | 'IMAGE_BAD_ASPECT' | 'FORMAT_PHOTO_TOO_SMALL'; params: Record<string, string | number> };

/** The largest rectangle of `ratio` inside width × height. */
export function cropSize(width: number, height: number, ratio: number): { width: number; height: number } {
  if (width / height > ratio) return { width: Math.max(1, Math.round(height * ratio)), height };
  return { width, height: Math.max(1, Math.round(width / ratio)) };
}

/** The crop of `size` centred on the focus, moved back inside the photo where it would leave it. */
export function placeCrop(photo: { width: number; height: number }, size: { width: number; height: number }, focus: Focus): Rect {
  const place = (length: number, span: number, at: number) => Math.min(length - span, Math.max(0, Math.round(at * length - span / 2)));
  return { left: place(photo.width, size.width, focus.x), top: place(photo.height, size.height, focus.y), width: size.width, height: size.height };
}

/**
 * What the first frame of a generation in `format` is cut from a photo of width × height:
 * the crop, its placement (centred on `focus`; the server's attention strategy chooses when
 * there is none, so placement here is only the centre), and the enlargement MiniMax's minimum
 * needs. A photo that cannot give MiniMax a valid frame is refused with the message's code and
 * the smallest photo of the same proportions that works.
 */
export function planFirstFrame(photo: { width: number; height: number }, format: VideoFormat, focus: Focus | null): FramePlan {
  const { width, height } = photo;
  if (format === 'original') {
    const short = Math.min(width, height);
    if (short < MIN_FRAME_SHORT_SIDE) return { ok: false, code: 'IMAGE_TOO_SMALL', params: { width, height, min: MIN_FRAME_SHORT_SIDE } };
    if (Math.max(width, height) / short > MAX_FRAME_ASPECT) return { ok: false, code: 'IMAGE_BAD_ASPECT', params: { width, height } };
    return { ok: true, crop: { left: 0, top: 0, width, height }, output: { width, height }, upscale: 1 };
  }
  const ratio = FORMAT_RATIO[format];
  const size = cropSize(width, height, ratio);
  const short = Math.min(size.width, size.height);
  const upscale = Math.max(1, MIN_FRAME_SHORT_SIDE / short);
  if (upscale > MAX_UPSCALE) {
    // The photo, scaled in its own proportions until its crop is half of MiniMax's minimum.
    const factor = MIN_FRAME_SHORT_SIDE / MAX_UPSCALE / short;
    return {
      ok: false,
      code: 'FORMAT_PHOTO_TOO_SMALL',
      params: {
        format,
        width,
        height,
        cropWidth: size.width,
        cropHeight: size.height,
        minWidth: Math.ceil(width * factor),
        minHeight: Math.ceil(height * factor),
      },
    };
  }
  const crop = placeCrop(photo, size, focus ?? { x: 0.5, y: 0.5 });
  const output =
    upscale === 1
      ? { width: size.width, height: size.height }
      : size.width <= size.height
        ? { width: MIN_FRAME_SHORT_SIDE, height: Math.round(MIN_FRAME_SHORT_SIDE / ratio) }
        : { width: Math.round(MIN_FRAME_SHORT_SIDE * ratio), height: MIN_FRAME_SHORT_SIDE };
  return { ok: true, crop, output, upscale };
}

/**
 * Where sellers upload videos, and what each place asks (public requirements as found; marked
 * where unconfirmed). One row per export offered under the player.
 */
export interface ExportTarget {
  id: ExportTargetId;
  /** The shape's format, for names and the cover. */
  format: CropFormat;
  width: number;
  height: number;
  /** Looped (whole plays) to at least this long. */
  minSeconds: number | null;
  /** Cut to at most this long. */
  maxSeconds: number | null;
  /** The place plays it muted: no audio track is written. */
  silent: boolean;
  /** The requirement as published, and what is not confirmed. */
  source: string;
}

export const EXPORT_TARGET_IDS = ['wildberries', 'ozon', 'ozon-cover', 'clips', 'square', 'wide'] as const;
export type ExportTargetId = (typeof EXPORT_TARGET_IDS)[number];

// Every target is an MP4 (H.264 High, yuv420p, +faststart) far under 100 MB, which is also what
// Yandex Market asks of a product video (≤ 100 MB; it plays without sound).
export const EXPORT_TARGETS: Record<ExportTargetId, ExportTarget> = {
  wildberries: {
    id: 'wildberries', format: '3:4', width: 1080, height: 1440, minSeconds: null, maxSeconds: null, silent: false,
    // Wildberries seller help: card photos 3:4, at least 900×1200. Video size and length limits: unconfirmed.
    source: 'Wildberries: card media 3:4, photos ≥ 900×1200; video limits unconfirmed',
  },
  ozon: {
    id: 'ozon', format: '3:4', width: 1080, height: 1440, minSeconds: 8, maxSeconds: null, silent: false,
    // Ozon seller docs, product video: MP4, long side 1080–1920 px, ≤ 100 MB, 8 s to 5 min.
    source: 'Ozon product video: MP4, long side 1080–1920 px, ≤ 100 MB, 8 s – 5 min',
  },
  'ozon-cover': {
    id: 'ozon-cover', format: '3:4', width: 1080, height: 1440, minSeconds: null, maxSeconds: 8, silent: true,
    // Ozon «видеообложка»: replaces the main photo, only the first 8 s show, muted and looped. Shape unconfirmed: 3:4 like the photos.
    source: 'Ozon video cover: first 8 s shown, muted, looped; shape unconfirmed (3:4 used)',
  },
  clips: {
    id: 'clips', format: '9:16', width: 1080, height: 1920, minSeconds: null, maxSeconds: null, silent: false,
    // VK Clips, Instagram Reels, Stories, YouTube Shorts: vertical 9:16, 1080×1920.
    source: 'VK Clips, Reels, Stories, Shorts: 9:16, 1080×1920',
  },
  square: {
    id: 'square', format: '1:1', width: 1080, height: 1080, minSeconds: null, maxSeconds: null, silent: false,
    source: 'Square feeds and ads: 1:1',
  },
  wide: {
    id: 'wide', format: '16:9', width: 1920, height: 1080, minSeconds: null, maxSeconds: null, silent: false,
    source: 'Web, YouTube: 16:9',
  },
};

export function isExportTarget(value: unknown): value is ExportTargetId {
  return typeof value === 'string' && (EXPORT_TARGET_IDS as readonly string[]).includes(value);
}

export const EXPORT_FITS = ['blur', 'crop'] as const;
export type ExportFit = (typeof EXPORT_FITS)[number];

export function isExportFit(value: unknown): value is ExportFit {
  return typeof value === 'string' && (EXPORT_FITS as readonly string[]).includes(value);
}

/** ASCII download name, e.g. `beem-3x4-wildberries.mp4` (the Russian one goes in `filename*`). */
export function exportFileName(target: ExportTarget, kind: 'video' | 'cover'): string {
  return `beem-${formatSlug(target.format)}-${target.id}${kind === 'cover' ? '-cover.jpg' : '.mp4'}`;
}

/** The same name in Russian for `filename*`: `beem-ролик-3x4-wildberries.mp4`, `beem-обложка-3x4-ozon.jpg`. */
export function exportFileNameRu(target: ExportTarget, kind: 'video' | 'cover'): string {
  return `beem-${kind === 'cover' ? 'обложка' : 'ролик'}-${formatSlug(target.format)}-${target.id}${kind === 'cover' ? '.jpg' : '.mp4'}`;
}

/** How many plays of a clip reach the target's minimum length (1 when it has none or is long enough). */
export function loopCount(target: ExportTarget, clipSeconds: number): number {
  if (target.minSeconds === null || clipSeconds <= 0 || clipSeconds >= target.minSeconds) return 1;
  return Math.ceil(target.minSeconds / clipSeconds - 1e-9);
}

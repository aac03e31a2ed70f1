import { FORMAT_RATIO, isVideoFormat } from '../lib/video/formats.ts';

/**
 * Videos shown at their own aspect ratio: the player and the history cards take the video's
 * width and height (or, before it exists, its format's), so a vertical clip is never boxed
 * into 16:9. A tall video fills the width of a phone up to most of the screen's height.
 */

export interface VideoShape {
  width?: number | null;
  height?: number | null;
  format?: string | null;
  posterUrl?: string | null;
}

/** Width ÷ height of a video: its own size, else its format's, else null (unknown: the photo's shape). */
export function aspectOf(shape: VideoShape): number | null {
  if (shape.width && shape.height) return shape.width / shape.height;
  if (isVideoFormat(shape.format) && shape.format !== 'original') return FORMAT_RATIO[shape.format];
  return null;
}

/**
 * The element's size for a video of `aspect`: the full width, but never taller than `maxHeight`
 * (a CSS length) — then narrower, keeping the shape, so no bars appear.
 */
function applyShape(element: HTMLElement, aspect: number, maxHeight: string): void {
  element.style.aspectRatio = String(aspect);
  element.style.width = `min(100%, calc(${maxHeight} * ${aspect.toFixed(5)}))`;
  element.style.marginInline = 'auto';
}

/** The result player: the video's shape and its poster. */
export function showInPlayer(video: HTMLVideoElement, shape: VideoShape): void {
  if (shape.posterUrl) video.poster = shape.posterUrl;
  const aspect = aspectOf(shape);
  if (aspect) applyShape(video, aspect, '75svh');
  // The file's own size is the last word (an older generation without a stored size).
  video.addEventListener(
    'loadedmetadata',
    () => {
      if (video.videoWidth && video.videoHeight) applyShape(video, video.videoWidth / video.videoHeight, '75svh');
    },
    { once: true },
  );
}

/** A history card's picture box: the poster at the video's shape, capped in height. */
export function showThumb(box: HTMLElement, image: HTMLImageElement, shape: VideoShape): void {
  const aspect = aspectOf(shape);
  if (aspect) applyShape(box, aspect, '20rem');
  if (shape.posterUrl) {
    image.src = shape.posterUrl;
    image.hidden = false;
    if (!aspect) image.addEventListener('load', () => applyShape(box, image.naturalWidth / image.naturalHeight, '20rem'), { once: true });
  }
}

import type { GenerationMode } from '../lib/model.ts';
import { formatSlug, isVideoFormat, type Focus, type Rect, type VideoFormat } from '../lib/video/formats.ts';
import type { Translator } from './translator.ts';

/**
 * The format picker of /app: which shape the first frame is cut to, the frame itself as the
 * server cuts it (the same file the worker sends), and the focus point the seller sets by
 * tapping the product on it (or with the arrow keys). Template mode hides it: the template
 * decides the shape.
 */

export interface FormatChoiceBody {
  format: VideoFormat;
  focus?: Focus;
}

export interface FormatPicker {
  /** What `POST /api/generate` gets for the current choice. */
  body(): FormatChoiceBody;
  /** A new current photo (or none): the frame is cut again. */
  photoChanged(uploadId: string | null): void;
  /** Prompt or template mode. */
  modeChanged(mode: GenerationMode): void;
  /** Puts a format back (a history item's «again»). */
  select(format: string): void;
}

/** Where the frame sits in the photo: `left,top,width,height,photoWidth,photoHeight` (X-Frame-Crop). */
export function readFrameCrop(header: string | null): { crop: Rect; photo: { width: number; height: number } } | null {
  const numbers = (header ?? '').split(',').map(Number);
  if (numbers.length !== 6 || numbers.some((n) => !Number.isFinite(n))) return null;
  const [left, top, width, height, photoWidth, photoHeight] = numbers as [number, number, number, number, number, number];
  return { crop: { left, top, width, height }, photo: { width: photoWidth, height: photoHeight } };
}

/** A tap at (u, v) of the frame (0..1) as a focus point of the photo. */
export function focusFromTap(frame: { crop: Rect; photo: { width: number; height: number } }, u: number, v: number): Focus {
  const clamp = (x: number) => Math.min(1, Math.max(0, Math.round(x * 1000) / 1000));
  return {
    x: clamp((frame.crop.left + u * frame.crop.width) / frame.photo.width),
    y: clamp((frame.crop.top + v * frame.crop.height) / frame.photo.height),
  };
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export function startFormatPicker(options: { form: HTMLFormElement; tr: Translator; uploadId: string | null; mode: GenerationMode }): FormatPicker {
  const { form, tr } = options;
  let uploadId = options.uploadId;
  let mode = options.mode;
  let focus: Focus | null = null;
  let frame: ReturnType<typeof readFrameCrop> = null;
  let shownUrl: string | null = null;
  let request = 0;

  const format = (): VideoFormat => {
    const value = (form.elements.namedItem('format') as RadioNodeList | null)?.value;
    return isVideoFormat(value) ? value : 'original';
  };
  const image = $<HTMLImageElement>('frame-preview');

  function error(message: string | null): void {
    $('frame-error').hidden = message === null;
    $('frame-error').textContent = message ?? '';
  }

  function placeDot(): void {
    const dot = $('frame-dot');
    if (!focus || !frame) {
      dot.hidden = true;
      return;
    }
    dot.hidden = false;
    dot.style.left = `${((focus.x * frame.photo.width - frame.crop.left) / frame.crop.width) * 100}%`;
    dot.style.top = `${((focus.y * frame.photo.height - frame.crop.top) / frame.crop.height) * 100}%`;
  }

  async function refresh(): Promise<void> {
    const template = mode === 'template';
    $('format-options').hidden = template;
    $('format-template-note').hidden = !template;
    const box = $('frame-box');
    if (template || !uploadId || format() === 'original') {
      box.hidden = true;
      error(null);
      return;
    }
    box.hidden = false;
    const query = new URLSearchParams({ format: format(), photo: uploadId });
    if (focus) {
      query.set('fx', String(focus.x));
      query.set('fy', String(focus.y));
    }
    const mine = ++request;
    try {
      const response = await fetch(`/api/uploads/current?${query}`, { credentials: 'same-origin' });
      if (mine !== request) return;
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { error?: string };
        error(body.error ?? tr.t('ui.video.previewError'));
        return;
      }
      frame = readFrameCrop(response.headers.get('x-frame-crop'));
      const url = URL.createObjectURL(await response.blob());
      if (mine !== request) return URL.revokeObjectURL(url);
      if (shownUrl) URL.revokeObjectURL(shownUrl);
      shownUrl = url;
      image.src = url;
      image.dataset.format = formatSlug(format());
      error(null);
      $('frame-status').textContent = tr.t(focus ? 'ui.video.focusSet' : 'ui.video.focusAuto');
      $('frame-reset').hidden = focus === null;
      placeDot();
    } catch {
      if (mine === request) error(tr.t('ui.video.previewError'));
    }
  }

  function moveFocus(next: Focus | null): void {
    focus = next;
    void refresh();
  }

  form.addEventListener('change', (event) => {
    if ((event.target as HTMLInputElement).name !== 'format') return;
    focus = null;
    void refresh();
  });
  $('frame-target').addEventListener('click', (event) => {
    if (!frame || event.detail === 0) return; // keyboard "clicks" use the arrow keys instead
    const rect = image.getBoundingClientRect();
    moveFocus(focusFromTap(frame, (event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height));
  });
  $('frame-target').addEventListener('keydown', (event) => {
    const step: Record<string, [number, number]> = { ArrowLeft: [-0.05, 0], ArrowRight: [0.05, 0], ArrowUp: [0, -0.05], ArrowDown: [0, 0.05] };
    const move = step[event.key];
    if (!move || !frame) return;
    event.preventDefault();
    const current = focus ?? focusFromTap(frame, 0.5, 0.5);
    moveFocus(focusFromTap({ crop: { left: 0, top: 0, width: frame.photo.width, height: frame.photo.height }, photo: frame.photo }, current.x + move[0], current.y + move[1]));
  });
  $('frame-reset').addEventListener('click', () => moveFocus(null));
  void refresh();

  return {
    body() {
      if (mode === 'template') return { format: 'original' };
      return focus && format() !== 'original' ? { format: format(), focus } : { format: format() };
    },
    photoChanged(next) {
      uploadId = next;
      focus = null;
      void refresh();
    },
    modeChanged(next) {
      mode = next;
      void refresh();
    },
    select(value) {
      const input = form.querySelector<HTMLInputElement>(`input[name="format"][value="${CSS.escape(value)}"]`);
      if (!input || input.checked) return;
      input.checked = true;
      focus = null;
      void refresh();
    },
  };
}

import { randomInt } from 'node:crypto';
import { findTemplate, MODELS, RESOLUTIONS, type Resolution, type TemplateSpec, type VideoMode } from './catalog.ts';

/**
 * Pure rules of the MiniMax API: request validation (model × mode × resolution × duration,
 * prompt length, template inputs), output size, and the camera motion a prompt asks for.
 * Image bytes are checked separately (image.ts) because reading them is I/O.
 */

export const MAX_PROMPT_CHARS = 2000;

export interface InvalidParams {
  ok: false;
  /** Follows the API's own wording: "invalid params, <detail>". */
  message: string;
}

export interface VideoRequest {
  ok: true;
  model: string;
  mode: VideoMode;
  prompt: string;
  resolution: Resolution;
  duration: number;
  /** Image sources (data URL or http URL) to check and, for the first one, animate. */
  firstFrame: string | null;
  lastFrame: string | null;
  subjectImage: string | null;
  callbackUrl: string | null;
}

const invalid = (detail: string): InvalidParams => ({ ok: false, message: `invalid params, ${detail}` });

function optionalString(body: Record<string, unknown>, key: string): string | null | InvalidParams {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return invalid(`${key} must be a string`);
  return value;
}

const isInvalid = (v: unknown): v is InvalidParams =>
  typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;

export function promptLength(prompt: string): number {
  return [...prompt].length;
}

function checkCallbackUrl(value: string | null): InvalidParams | null {
  if (value === null) return null;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return invalid('callback_url must be http(s)');
  } catch {
    return invalid('callback_url is not a valid url');
  }
  return null;
}

export interface VideoRuleOptions {
  /** One community client reports the 01-series rejects explicit duration/resolution [U]. */
  legacyRejectsExplicitSize: boolean;
}

export function validateVideoRequest(
  raw: unknown,
  options: VideoRuleOptions = { legacyRejectsExplicitSize: false },
): VideoRequest | InvalidParams {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid('body must be a JSON object');
  const body = raw as Record<string, unknown>;
  if (typeof body.model !== 'string' || body.model === '') return invalid('model is required');
  const spec = MODELS[body.model];
  if (!spec) return invalid(`unknown model ${body.model}`);

  const fields = {
    prompt: optionalString(body, 'prompt'),
    first: optionalString(body, 'first_frame_image'),
    last: optionalString(body, 'last_frame_image'),
    callback: optionalString(body, 'callback_url'),
  };
  for (const value of Object.values(fields)) if (isInvalid(value)) return value;
  const prompt = (fields.prompt as string | null) ?? '';
  const firstFrame = fields.first as string | null;
  const lastFrame = fields.last as string | null;
  const callbackUrl = fields.callback as string | null;
  for (const flag of ['prompt_optimizer', 'fast_pretreatment', 'aigc_watermark']) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') return invalid(`${flag} must be a boolean`);
  }
  if (promptLength(prompt) > MAX_PROMPT_CHARS) return invalid(`prompt exceeds ${MAX_PROMPT_CHARS} characters`);
  const badCallback = checkCallbackUrl(callbackUrl);
  if (badCallback) return badCallback;

  let subjectImage: string | null = null;
  if (body.subject_reference !== undefined) {
    const ref = body.subject_reference;
    const first = Array.isArray(ref) && ref.length === 1 ? (ref[0] as Record<string, unknown> | undefined) : undefined;
    const images = first && first.type === 'character' ? first.image : undefined;
    if (!Array.isArray(images) || images.length !== 1 || typeof images[0] !== 'string') {
      return invalid('subject_reference must hold exactly one character with one image');
    }
    subjectImage = images[0];
  }

  const mode: VideoMode = subjectImage ? 'S2V' : lastFrame ? 'FL2V' : firstFrame ? 'I2V' : 'T2V';
  const matrix = spec.modes[mode];
  if (!matrix) return invalid(`model ${body.model} does not support ${mode}`);
  if (mode === 'T2V' && prompt.trim() === '') return invalid('prompt is required');
  if (mode === 'FL2V' && !firstFrame) return invalid('first_frame_image is required with last_frame_image');

  const legacy = spec.defaultResolution === '720P';
  if (legacy && options.legacyRejectsExplicitSize && (body.duration !== undefined || body.resolution !== undefined)) {
    return invalid(`model ${body.model} does not accept duration or resolution`);
  }
  const resolution = body.resolution ?? spec.defaultResolution;
  if (typeof resolution !== 'string' || !RESOLUTIONS.includes(resolution as Resolution)) {
    return invalid('resolution must be one of 512P, 720P, 768P, 1080P');
  }
  const duration = body.duration ?? 6;
  if (typeof duration !== 'number' || !Number.isInteger(duration)) return invalid('duration must be an integer');
  const allowed = matrix[resolution as Resolution];
  if (!allowed) return invalid(`model ${body.model} does not support ${resolution} for ${mode}`);
  if (!allowed.includes(duration)) {
    return invalid(`model ${body.model} does not support ${duration}s at ${resolution}`);
  }
  return {
    ok: true,
    model: body.model,
    mode,
    prompt,
    resolution: resolution as Resolution,
    duration,
    firstFrame,
    lastFrame,
    subjectImage,
    callbackUrl,
  };
}

export interface TemplateRequest {
  ok: true;
  template: TemplateSpec;
  media: string[];
  texts: string[];
  callbackUrl: string | null;
}

function valuesOf(raw: unknown, key: string): string[] | InvalidParams {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return invalid(`${key} must be an array`);
  const values: string[] = [];
  for (const item of raw) {
    const value = (item as { value?: unknown } | null)?.value;
    if (typeof value !== 'string' || value === '') return invalid(`${key}[].value must be a non-empty string`);
    values.push(value);
  }
  return values;
}

export function validateTemplateRequest(
  raw: unknown,
  options: { strictInputCounts: boolean } = { strictInputCounts: false },
): TemplateRequest | InvalidParams {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid('body must be a JSON object');
  const body = raw as Record<string, unknown>;
  if (typeof body.template_id !== 'string' || body.template_id === '') return invalid('template_id is required');
  const template = findTemplate(body.template_id);
  if (!template) return invalid(`unknown template_id ${body.template_id}`);
  const media = valuesOf(body.media_inputs, 'media_inputs');
  if (isInvalid(media)) return media;
  const texts = valuesOf(body.text_inputs, 'text_inputs');
  if (isInvalid(texts)) return texts;
  const callback = optionalString(body, 'callback_url');
  if (isInvalid(callback)) return callback;
  const badCallback = checkCallbackUrl(callback);
  if (badCallback) return badCallback;
  if (media.length < template.media) return invalid(`template ${template.id} needs ${template.media} media input`);
  if (texts.length < template.text) return invalid(`template ${template.id} needs ${template.text} text input`);
  if (options.strictInputCounts && (media.length > template.media || texts.length > template.text)) {
    return invalid(`template ${template.id} takes ${template.media} media and ${template.text} text inputs`);
  }
  for (const text of texts) {
    if (promptLength(text) > MAX_PROMPT_CHARS) return invalid(`text input exceeds ${MAX_PROMPT_CHARS} characters`);
  }
  return { ok: true, template, media, texts, callbackUrl: callback };
}

const SHORT_SIDE: Record<Resolution, number> = { '512P': 512, '720P': 720, '768P': 768, '1080P': 1080 };

const nearestEven = (value: number) => Math.round(value / 2) * 2;

/**
 * Output size: the resolution names the short side and the long side follows the first frame's
 * aspect ratio (16:9 without an image). Matches the observed 1280×720, 1366×768, 1920×1080 (§5).
 */
export function outputDimensions(resolution: Resolution, aspect: number | null): { width: number; height: number } {
  const short = SHORT_SIDE[resolution];
  const ratio = aspect ?? 16 / 9;
  if (ratio >= 1) return { width: nearestEven(short * ratio), height: short };
  return { width: short, height: nearestEven(short / ratio) };
}

/** Scales nominal dimensions down so the short side is at most `maxShortSide` (even numbers). */
export function renderDimensions(
  nominal: { width: number; height: number },
  maxShortSide: number,
): { width: number; height: number } {
  const short = Math.min(nominal.width, nominal.height);
  const scale = Math.min(1, maxShortSide / short);
  return { width: nearestEven(nominal.width * scale), height: nearestEven(nominal.height * scale) };
}

export type CameraMotion =
  | 'push_in'
  | 'pull_out'
  | 'pan_left'
  | 'pan_right'
  | 'truck_left'
  | 'truck_right'
  | 'tilt_up'
  | 'tilt_down'
  | 'pedestal_up'
  | 'pedestal_down'
  | 'zoom_in'
  | 'zoom_out'
  | 'shake'
  | 'tracking'
  | 'static';

/** The 15 director commands in English and Chinese spelling (§6). */
const COMMANDS: Record<string, CameraMotion> = {
  'truck left': 'truck_left',
  'truck right': 'truck_right',
  'pan left': 'pan_left',
  'pan right': 'pan_right',
  'push in': 'push_in',
  'pull out': 'pull_out',
  'pedestal up': 'pedestal_up',
  'pedestal down': 'pedestal_down',
  'tilt up': 'tilt_up',
  'tilt down': 'tilt_down',
  'zoom in': 'zoom_in',
  'zoom out': 'zoom_out',
  shake: 'shake',
  'tracking shot': 'tracking',
  'static shot': 'static',
  左移: 'truck_left',
  右移: 'truck_right',
  左摇: 'pan_left',
  右摇: 'pan_right',
  推进: 'push_in',
  拉远: 'pull_out',
  上升: 'pedestal_up',
  下降: 'pedestal_down',
  上摇: 'tilt_up',
  下摇: 'tilt_down',
  变焦推近: 'zoom_in',
  变焦拉远: 'zoom_out',
  晃动: 'shake',
  跟随: 'tracking',
  固定: 'static',
};

/**
 * The first camera command in prompt order (the first known command inside the first bracket
 * that holds one), or null when the prompt has none. Unknown bracket text is plain prompt text.
 */
export function firstCameraMotion(prompt: string): CameraMotion | null {
  for (const match of prompt.matchAll(/\[([^\]]*)\]/g)) {
    for (const part of (match[1] ?? '').split(/[,，]/)) {
      const motion = COMMANDS[part.trim().toLowerCase().replace(/\s+/g, ' ')];
      if (motion) return motion;
    }
  }
  return null;
}

/** A decimal id of exactly `digits` digits (15–18 as observed; ≤ 15 stays a safe JS integer). */
export function decimalId(digits: number): string {
  let id = String(randomInt(1, 10));
  while (id.length < digits) id += String(randomInt(0, 10));
  return id;
}

/** USD price of a video, when published; 0 otherwise (the 01-series prices are gone, §10). */
export function videoPriceUsd(model: string, resolution: Resolution, duration: number): number {
  return MODELS[model]?.prices[`${resolution}-${duration}`] ?? 0;
}

/**
 * Facts about the MiniMax video API that the emulator enforces, taken from
 * reference/minimax-api.md (§2 models, §3 validation matrix, §8.3 templates, §9 errors, §10 prices).
 */

export type Resolution = '512P' | '720P' | '768P' | '1080P';
export type VideoMode = 'T2V' | 'I2V' | 'FL2V' | 'S2V';

export const RESOLUTIONS: readonly Resolution[] = ['512P', '720P', '768P', '1080P'];

/** Allowed durations per resolution for one model in one mode. */
type Matrix = Partial<Record<Resolution, readonly number[]>>;

interface ModelSpec {
  modes: Partial<Record<VideoMode, Matrix>>;
  defaultResolution: Resolution;
  /** Director-capable models follow `[Push in]`-style camera commands (§6). */
  cameraCommands: boolean;
  /** Pay-as-you-go USD per video by `<resolution>-<duration>`, when published (§10). */
  prices: Record<string, number>;
}

const HAILUO: Matrix = { '768P': [6, 10], '1080P': [6] };
const HAILUO_02_I2V: Matrix = { '512P': [6, 10], '768P': [6, 10], '1080P': [6] };
const SERIES_01: Matrix = { '720P': [6] };
const HAILUO_23_PRICES = { '768P-6': 0.28, '768P-10': 0.56, '1080P-6': 0.49 };

export const MODELS: Record<string, ModelSpec> = {
  'MiniMax-Hailuo-2.3': {
    modes: { T2V: HAILUO, I2V: HAILUO },
    defaultResolution: '768P',
    cameraCommands: true,
    prices: HAILUO_23_PRICES,
  },
  'MiniMax-Hailuo-2.3-Fast': {
    modes: { I2V: HAILUO },
    defaultResolution: '768P',
    cameraCommands: true,
    prices: { '768P-6': 0.19, '768P-10': 0.32, '1080P-6': 0.33 },
  },
  'MiniMax-Hailuo-02': {
    modes: { T2V: HAILUO, I2V: HAILUO_02_I2V, FL2V: HAILUO },
    defaultResolution: '768P',
    cameraCommands: true,
    prices: { ...HAILUO_23_PRICES, '512P-6': 0.1, '512P-10': 0.15 },
  },
  'T2V-01-Director': { modes: { T2V: SERIES_01 }, defaultResolution: '720P', cameraCommands: true, prices: {} },
  'T2V-01': { modes: { T2V: SERIES_01 }, defaultResolution: '720P', cameraCommands: false, prices: {} },
  'I2V-01-Director': { modes: { I2V: SERIES_01 }, defaultResolution: '720P', cameraCommands: true, prices: {} },
  'I2V-01': { modes: { I2V: SERIES_01 }, defaultResolution: '720P', cameraCommands: false, prices: {} },
  'I2V-01-live': { modes: { I2V: SERIES_01 }, defaultResolution: '720P', cameraCommands: false, prices: {} },
  'S2V-01': { modes: { S2V: SERIES_01 }, defaultResolution: '720P', cameraCommands: false, prices: {} },
  'video-01': { modes: { T2V: SERIES_01, I2V: SERIES_01 }, defaultResolution: '720P', cameraCommands: false, prices: {} },
  'video-01-live2d': { modes: { I2V: SERIES_01 }, defaultResolution: '720P', cameraCommands: false, prices: {} },
};

export interface TemplateSpec {
  id: string;
  name: string;
  media: number;
  text: number;
  priceUsd: number | null;
}

/** Every template id of both official lists (§8.3): 16 international + 6 mainland-only = 22. */
export const TEMPLATES: readonly TemplateSpec[] = [
  { id: '392747428568649728', name: 'Diving', media: 1, text: 0, priceUsd: 0.4 },
  { id: '393769180141805569', name: 'Run for Life', media: 1, text: 1, priceUsd: 0.45 },
  { id: '397087679467597833', name: 'Transformers', media: 1, text: 0, priceUsd: 0.45 },
  { id: '393881433990066176', name: 'Still rings routine', media: 1, text: 0, priceUsd: 0.45 },
  { id: '393498001241890824', name: 'Weightlifting', media: 1, text: 0, priceUsd: 0.45 },
  { id: '393488336655310850', name: 'Climbing', media: 1, text: 0, priceUsd: 0.4 },
  { id: '394514820878671878', name: 'Anime Life Sim', media: 0, text: 1, priceUsd: 1.5 },
  { id: '393879757702918151', name: "McDonald's Delivery Pet", media: 1, text: 0, priceUsd: 1.1 },
  { id: '397017167949312007', name: 'Pet Pilot', media: 1, text: 0, priceUsd: 2.0 },
  { id: '394176968202485769', name: 'Miniature Set Ad', media: 1, text: 0, priceUsd: 1.4 },
  { id: '393876118804459526', name: 'Male Model Try-On Ad', media: 1, text: 0, priceUsd: 1.0 },
  { id: '393866076583718914', name: 'Female Model Try-On Ad', media: 1, text: 0, priceUsd: 1.0 },
  { id: '394875727173492739', name: 'Art Fonts', media: 0, text: 1, priceUsd: 0.35 },
  { id: '394220989629177861', name: 'Drinkfall', media: 1, text: 0, priceUsd: 0.7 },
  { id: '393853165953970178', name: 'E-commerce Display Ad', media: 0, text: 1, priceUsd: 0.86 },
  { id: '401431836934868999', name: '3D character product presentation', media: 1, text: 1, priceUsd: 1.08 },
  { id: '392753057216684038', name: 'Diving (mainland)', media: 1, text: 0, priceUsd: null },
  { id: '394246956137422856', name: 'Labubu everything', media: 1, text: 0, priceUsd: null },
  { id: '393766210733957121', name: 'Tibetan-style portrait', media: 1, text: 0, priceUsd: null },
  { id: '394125185182695432', name: 'Over it', media: 0, text: 1, priceUsd: null },
  { id: '393857704283172864', name: 'Love-letter portrait', media: 1, text: 0, priceUsd: null },
  { id: '398574688191234048', name: 'Four-seasons portrait', media: 1, text: 0, priceUsd: null },
];

export function findTemplate(id: string): TemplateSpec | null {
  return TEMPLATES.find((t) => t.id === id) ?? null;
}

/** `base_resp.status_msg` per code, as the platform-wide table spells them (§9). */
export const STATUS_MESSAGES: Record<number, string> = {
  0: 'success',
  1000: 'unknown error',
  1001: 'request timeout',
  1002: 'rate limit exceeded(RPM)',
  1004: 'not authorized',
  1008: 'insufficient balance',
  1013: 'internal service error',
  1024: 'internal error',
  1026: 'input new_sensitive',
  1027: 'output new_sensitive',
  1033: 'system error',
  1039: 'token limit exceeded(TPM)',
  1041: 'conn limit',
  1042: 'illegal characters ratio too high',
  2013: 'invalid params',
  2038: 'real-name verification required',
  2045: 'rate growth limit',
  2049: 'invalid api key',
  2056: 'usage limit exceeded',
};

export interface BaseResp {
  status_code: number;
  status_msg: string;
}

export function baseResp(code: number, message?: string): BaseResp {
  return { status_code: code, status_msg: message ?? STATUS_MESSAGES[code] ?? 'error' };
}

/** Query statuses, spelled exactly as the API does (note `Fail`, not `Failed`). */
export type TaskStatus = 'Preparing' | 'Queueing' | 'Processing' | 'Success' | 'Fail';

import type { Duration } from '../../model.ts';
/**
 * Which image-to-video models, resolutions and lengths MiniMax accepts
 * (reference/minimax-api.md §2–3). Beem always sends the user's photo as the first frame,
 * so text-only models are not offered. Checked at start, so a wrong MINIMAX_MODEL /
 * MINIMAX_RESOLUTION stops the server with a clear message instead of failing every task.
 */

export type Resolution = '512P' | '720P' | '768P' | '1080P';

export interface ModelSpec {
  /** Allowed lengths in seconds per resolution. */
  resolutions: Partial<Record<Resolution, ReadonlyArray<Duration>>>;
  /** 01-series models reject explicit `duration`/`resolution`: the client leaves them out. */
  omitDurationAndResolution: boolean;
}

const HAILUO_23: ModelSpec = { resolutions: { '768P': [6, 10], '1080P': [6] }, omitDurationAndResolution: false };
const SERIES_01: ModelSpec = { resolutions: { '720P': [6] }, omitDurationAndResolution: true };

export const IMAGE_TO_VIDEO_MODELS: Record<string, ModelSpec> = {
  'MiniMax-Hailuo-2.3': HAILUO_23,
  'MiniMax-Hailuo-2.3-Fast': HAILUO_23,
  'MiniMax-Hailuo-02': { resolutions: { '512P': [6, 10], '768P': [6, 10], '1080P': [6] }, omitDurationAndResolution: false },
  'I2V-01-Director': SERIES_01,
  'I2V-01': SERIES_01,
  'I2V-01-live': SERIES_01,
};

const TEXT_ONLY_MODELS = ['T2V-01', 'T2V-01-Director', 'S2V-01'];

export function getModelSpec(model: string): ModelSpec | null {
  return IMAGE_TO_VIDEO_MODELS[model] ?? null;
}

/** Problems with a model/resolution pair, worded for the operator and naming the variables. */
export function checkModelConfig(model: string, resolution: Resolution): string[] {
  const spec = getModelSpec(model);
  if (!spec) {
    const why = TEXT_ONLY_MODELS.includes(model)
      ? `${model} does not take a photo as the first frame`
      : `unknown model ${model}`;
    return [`MINIMAX_MODEL: ${why}; use one of ${Object.keys(IMAGE_TO_VIDEO_MODELS).join(', ')}`];
  }
  if (!spec.resolutions[resolution]) {
    return [
      `MINIMAX_RESOLUTION: ${model} does not support ${resolution}; allowed: ${Object.keys(spec.resolutions).join(', ')}`,
    ];
  }
  return [];
}

export function isDurationSupported(model: string, resolution: Resolution, duration: Duration): boolean {
  return getModelSpec(model)?.resolutions[resolution]?.includes(duration) ?? false;
}

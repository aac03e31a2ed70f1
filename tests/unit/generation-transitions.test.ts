import { describe, expect, it } from 'vitest';
import { alertStageForStep, backoffDelay, latePollDelay, reasonForError } from '../../src/lib/generation/transitions.ts';
import { checkModelConfig, isDurationSupported } from '../../src/lib/providers/minimax/model-matrix.ts';
import { isRetryableCode } from '../../src/lib/providers/minimax/errors.ts';
import { loadConfig, ConfigError } from '../../src/lib/config.ts';

describe('generation transitions', () => {
  it('backs off exponentially, capped, never below half the nominal delay', () => {
    const policy = { baseMs: 1000, maxMs: 10_000 };
    expect(backoffDelay(1, policy, () => 0)).toBe(500);
    expect(backoffDelay(1, policy, () => 1)).toBe(1000);
    expect(backoffDelay(3, policy, () => 1)).toBe(4000);
    expect(backoffDelay(10, policy, () => 1)).toBe(10_000);
    expect(backoffDelay(10, policy, () => 0)).toBe(5000);
    expect(backoffDelay(1000, policy, () => 0.5)).toBe(7500);
  });

  it.each([
    [0, 10_000],
    [60_000, 10_000],
    [100_000, 10_000],
    [600_000, 60_000],
    [3_000_000, 300_000],
    [6 * 3_600_000, 300_000],
  ])('waits longer between late checks the longer ago the task was failed (%i ms ago → %i ms)', (since, pause) => {
    expect(latePollDelay(since, 10_000)).toBe(pause);
  });

  it('keeps a six-hour late watch to about a hundred MiniMax queries at the default 10 s poll interval (not 2,160)', () => {
    let since = 0;
    let queries = 0;
    while (since < 6 * 3_600_000) {
      since += latePollDelay(since, 10_000);
      queries += 1;
    }
    expect(queries).toBe(108);
  });

  it.each([
    ['1026', 'INPUT_SENSITIVE'],
    ['1027', 'OUTPUT_SENSITIVE'],
    ['1042', 'PROMPT_CHARACTERS'],
    ['2013', 'INVALID_PARAMS'],
    ['1008', 'PROVIDER_UNAVAILABLE'],
    ['2049', 'PROVIDER_UNAVAILABLE'],
    ['1002', 'PROVIDER_BUSY'],
    ['HTTP_503', 'PROVIDER_BUSY'],
    ['TASK_FAILED', 'GENERATION_FAILED'],
    ['STUCK', 'TIMED_OUT'],
    ['STOPPED_BY_SUPPORT', 'STOPPED_BY_SUPPORT'],
    ['DOWNLOAD_TOO_LARGE', 'DOWNLOAD_FAILED'],
    ['something else', 'INTERNAL'],
  ])('error %s is told to the user as %s', (code, reason) => {
    expect(reasonForError(code)).toBe(reason);
  });

  it('alerts with the spec stage of the failing step', () => {
    expect(alertStageForStep('submit', false)).toBe('MINIMAX_CALL');
    expect(alertStageForStep('poll', true)).toBe('MINIMAX_GENERATION');
    expect(alertStageForStep('download', false)).toBe('VIDEO_DOWNLOAD');
    expect(alertStageForStep('prepare', false)).toBe('QUEUE_PROCESSOR');
  });
});

describe('MiniMax error classes', () => {
  it.each(['1000', '1001', '1002', '1013', '1024', '1033', '1039', '1041', '2045', 'TIMEOUT', 'NETWORK'])('%s is retryable', (code) => {
    expect(isRetryableCode(code, 200)).toBe(true);
  });
  it.each(['1004', '1008', '1026', '1027', '1042', '2013', '2049', '2056'])('%s is not retryable', (code) => {
    expect(isRetryableCode(code, 200)).toBe(false);
  });
  it('HTTP 5xx and 429 are retryable, other 4xx are not', () => {
    expect(isRetryableCode('HTTP_502', 502)).toBe(true);
    expect(isRetryableCode('HTTP_429', 429)).toBe(true);
    expect(isRetryableCode('HTTP_400', 400)).toBe(false);
  });
});

describe('MiniMax model matrix', () => {
  it('accepts the documented image-to-video pairs', () => {
    expect(checkModelConfig('MiniMax-Hailuo-2.3', '768P')).toEqual([]);
    expect(checkModelConfig('MiniMax-Hailuo-02', '512P')).toEqual([]);
    expect(checkModelConfig('I2V-01-Director', '720P')).toEqual([]);
  });
  it('names the variable for a wrong model or resolution', () => {
    expect(checkModelConfig('MiniMax-Hailuo-2.3', '512P')[0]).toMatch(/^MINIMAX_RESOLUTION: .*512P/);
    expect(checkModelConfig('T2V-01', '720P')[0]).toMatch(/^MINIMAX_MODEL: T2V-01 does not take a photo/);
    expect(checkModelConfig('Sora', '768P')[0]).toMatch(/^MINIMAX_MODEL: unknown model/);
  });
  it('knows which lengths each resolution allows', () => {
    expect(isDurationSupported('MiniMax-Hailuo-2.3', '768P', 10)).toBe(true);
    expect(isDurationSupported('MiniMax-Hailuo-2.3', '1080P', 10)).toBe(false);
    expect(isDurationSupported('I2V-01', '720P', 10)).toBe(false);
  });
  it('stops the start with a ConfigError for an invalid combination', () => {
    expect(() => loadConfig({ MINIMAX_MODEL: 'MiniMax-Hailuo-2.3', MINIMAX_RESOLUTION: '720P' })).toThrow(ConfigError);
    expect(() => loadConfig({ MINIMAX_MODEL: 'MiniMax-Hailuo-2.3', MINIMAX_RESOLUTION: '720P' })).toThrow(/MINIMAX_RESOLUTION/);
  });
});

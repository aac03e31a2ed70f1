import { describe, expect, it } from 'vitest';
import { fitDuration, generateBlocker, progressStage, promptLength, readCameraCommands, type FormState } from '../../src/scripts/app-state.ts';

const ready: FormState = {
  hasImage: true,
  uploading: false,
  promptLength: 40,
  cost: 1,
  balance: 3,
  running: false,
  submitting: false,
};

describe('generateBlocker', () => {
  it.each([
    ['nothing missing', {}, null],
    ['no photo yet', { hasImage: false }, 'noImage'],
    ['photo still uploading', { uploading: true }, 'uploading'],
    ['prompt of 2 characters', { promptLength: 2 }, 'promptShort'],
    ['prompt of exactly 3 characters', { promptLength: 3 }, null],
    ['prompt of exactly 2000 characters', { promptLength: 2000 }, null],
    ['prompt of 2001 characters', { promptLength: 2001 }, 'promptLong'],
    ['balance below the cost', { balance: 1, cost: 2 }, 'balance'],
    ['balance equal to the cost', { balance: 2, cost: 2 }, null],
    ['a generation already running', { running: true }, 'running'],
    ['the request is on its way', { submitting: true }, 'submitting'],
  ] as const)('%s', (_name, change, expected) => {
    expect(generateBlocker({ ...ready, ...change })?.key ?? null).toBe(expected);
  });

  it('names the first thing to fix in the order that matters: the credits, then the photo, then the description', () => {
    expect(generateBlocker({ ...ready, hasImage: false, promptLength: 0, balance: 0 })?.key).toBe('balance');
    expect(generateBlocker({ ...ready, promptLength: 0, balance: 0 })?.key).toBe('balance');
    expect(generateBlocker({ ...ready, hasImage: false, promptLength: 0 })?.key).toBe('noImage');
    expect(generateBlocker({ ...ready, promptLength: 0 })?.key).toBe('promptShort');
  });

  it('carries the numbers for the "not enough credits" message', () => {
    expect(generateBlocker({ ...ready, balance: 1, cost: 2 })).toEqual({ key: 'balance', cost: 2, balance: 1 });
  });
});

describe('fitDuration', () => {
  const costs = { 6: 1, 10: 2 } as const;
  it.each([
    ['10 s covered', 10, 2, 10, false],
    ['10 s no longer covered, 6 s is', 10, 1, 6, true],
    ['neither covered: nothing to switch to', 10, 0, 10, false],
    ['6 s stays 6 s', 6, 0, 6, false],
  ] as const)('%s', (_name, selected, balance, duration, switched) => {
    expect(fitDuration(selected, costs, balance)).toEqual({ duration, switched });
  });
});

describe('promptLength', () => {
  it('does not count surrounding spaces, as the server does not', () => {
    expect(promptLength('  аб  ')).toBe(2);
    expect(promptLength('Кроссовки')).toBe(9);
  });
});

describe('progressStage', () => {
  it.each([
    ['queued', 'prepare', 'prepare'],
    ['queued', 'submit', 'queue'],
    ['queued', null, 'queue'],
    ['processing', 'submit', 'generate'],
    ['processing', 'poll', 'generate'],
    ['processing', 'download', 'save'],
    ['success', 'done', 'done'],
    ['success', 'download', 'done'],
  ] as const)('%s/%s shows the "%s" stage', (status, step, stage) => {
    expect(progressStage(status, step)).toBe(stage);
  });
});

describe('readCameraCommands', () => {
  it.each([
    ['an array', ['Push in', 'Pan left'], ['Push in', 'Pan left']],
    ['a JSON array string', '["Zoom in","Tilt up"]', ['Zoom in', 'Tilt up']],
    ['bracketed text', 'A shoe turns [Truck left,Pan right] then [Push in]', ['Truck left', 'Pan right', 'Push in']],
    ['nothing', null, []],
    ['an empty string', '  ', []],
  ])('reads %s', (_name, input, expected) => {
    expect(readCameraCommands(input)).toEqual(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { generateBlocker, progressStage, promptLength, readCameraCommands, type FormState } from '../../src/scripts/app-state.ts';

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

  it('names the first thing to fix: the photo before the prompt before the money', () => {
    expect(generateBlocker({ ...ready, hasImage: false, promptLength: 0, balance: 0 })?.key).toBe('noImage');
    expect(generateBlocker({ ...ready, promptLength: 0, balance: 0 })?.key).toBe('promptShort');
  });

  it('carries the numbers for the "not enough credits" message', () => {
    expect(generateBlocker({ ...ready, balance: 1, cost: 2 })).toEqual({ key: 'balance', cost: 2, balance: 1 });
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

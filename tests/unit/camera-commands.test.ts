import { describe, expect, it } from 'vitest';
import {
  CAMERA_COMMANDS,
  MAX_PROMPT_CHARS,
  normalizeCameraCommand,
  sanitizeDirectorPrompt,
  truncatePrompt,
} from '../../src/lib/prompt/camera-commands.ts';

describe('camera command spelling', () => {
  it.each([
    ['Push in', 'Push in'],
    ['push in', 'Push in'],
    ['  PUSH   IN ', 'Push in'],
    ['push-in', 'Push in'],
    ['pushin', 'Push in'],
    ['dolly in', 'Push in'],
    ['tracking', 'Tracking shot'],
    ['static', 'Static shot'],
    ['推进', 'Push in'],
    ['变焦拉远', 'Zoom out'],
    ['跟随', 'Tracking shot'],
    ['固定', 'Static shot'],
    ['Orbit', null],
    ['Fly through', null],
    ['', null],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeCameraCommand(raw)).toBe(expected);
  });

  it('knows exactly the 15 MiniMax commands, each its own canonical form', () => {
    expect(CAMERA_COMMANDS).toHaveLength(15);
    for (const command of CAMERA_COMMANDS) expect(normalizeCameraCommand(command)).toBe(command);
  });
});

const sanitizeCases: Array<{ name: string; input: string; text: string; removed?: string[] }> = [
  { name: 'keeps a valid prompt as is', input: '[Push in] A bottle on marble.', text: '[Push in] A bottle on marble.' },
  { name: 'normalises case and spacing', input: '[push  in] A bottle. [PAN LEFT]', text: '[Push in] A bottle. [Pan left]' },
  { name: 'maps Chinese commands to English', input: '[推进] 瓶子 [左摇,上升]', text: '[Push in] 瓶子 [Pan left, Pedestal up]' },
  {
    name: 'removes unknown commands inside a bracket',
    input: '[Push in, Orbit] A watch.',
    text: '[Push in] A watch.',
    removed: ['Orbit'],
  },
  { name: 'removes a bracket with no valid command', input: 'A watch [Fly through] on a table.', text: 'A watch on a table.', removed: ['Fly through'] },
  {
    name: 'keeps at most 3 commands per bracket',
    input: '[Pan left, Pedestal up, Zoom in, Shake] Sneakers.',
    text: '[Pan left, Pedestal up, Zoom in] Sneakers.',
    removed: ['Shake'],
  },
  { name: 'drops a repeated command in one bracket', input: '[Push in, push in] Cup.', text: '[Push in] Cup.' },
  { name: 'merges adjacent duplicate brackets', input: '[Push in] [push in] Cup of coffee.', text: '[Push in] Cup of coffee.' },
  {
    name: 'keeps the same move at two different moments',
    input: '[Push in] The cup steams. [Push in] The logo appears.',
    text: '[Push in] The cup steams. [Push in] The logo appears.',
  },
  { name: 'accepts full-width brackets', input: '【推进】 Perfume ［Tilt down］', text: '[Push in] Perfume [Tilt down]' },
  { name: 'separates a bracket glued to a word', input: 'Perfume[Push in]glows.', text: 'Perfume [Push in] glows.' },
  { name: 'leaves text without brackets alone', input: 'Just a product.', text: 'Just a product.' },
];

describe('sanitizeDirectorPrompt', () => {
  it.each(sanitizeCases)('$name', ({ input, text, removed }) => {
    const result = sanitizeDirectorPrompt(input);
    expect(result.text).toBe(text);
    if (removed) expect(result.removed).toEqual(removed);
  });

  it('reports the groups in order and the distinct commands', () => {
    const result = sanitizeDirectorPrompt('[Push in, Tilt down] A. [Pan left] B. [Push in] C.');
    expect(result.groups).toEqual([['Push in', 'Tilt down'], ['Pan left'], ['Push in']]);
    expect(result.commands).toEqual(['Push in', 'Tilt down', 'Pan left']);
  });

  it('never returns more than 2000 characters and never cuts a bracket', () => {
    const long = `[Push in] ${'A glossy bottle turns in the light. '.repeat(60)}[Pan left] End.`;
    const result = sanitizeDirectorPrompt(long);
    expect(result.text.length).toBeLessThanOrEqual(MAX_PROMPT_CHARS);
    expect(result.text.startsWith('[Push in]')).toBe(true);
    expect(result.text.endsWith('.')).toBe(true);
    expect(result.text.split('[').length).toBe(result.text.split(']').length);
  });
});

describe('truncatePrompt', () => {
  it('cuts before an open bracket that would be split', () => {
    const text = `${'word '.repeat(390)}[Pedestal up] tail`;
    const cut = truncatePrompt(text, 1960);
    expect(cut).not.toContain('[');
    expect(cut.length).toBeLessThanOrEqual(1960);
  });

  it('returns short text unchanged', () => {
    expect(truncatePrompt('short', 10)).toBe('short');
  });
});

import { describe, expect, it } from 'vitest';
import { checkCameraMoves, replaceCameraMoves, transplantCameraMoves } from '../../src/lib/prompt/camera-edit.ts';
import { CAMERA_COMMANDS, sanitizeDirectorPrompt } from '../../src/lib/prompt/camera-commands.ts';
import { CAMERA_GROUPS, cameraHintKey, cameraNameKey } from '../../src/lib/prompt/camera-menu.ts';
import { TEMPLATE_CATALOG } from '../../src/lib/prompt/template-catalog.ts';
import { prompt as promptMessages } from '../../src/lib/i18n/messages/prompt.ts';
import { expectBilingual } from '../helpers/phrasebook.ts';

const DIRECTOR = '[Push in] A perfume bottle on marble. Soft light. [Pan left] Petals fall. Premium look.';

describe('replaceCameraMoves', () => {
  it('puts each edited bracket where the old one stood, before the same clause', () => {
    expect(replaceCameraMoves(DIRECTOR, [['Zoom in'], ['Tilt up', 'Shake']]).text).toBe(
      '[Zoom in] A perfume bottle on marble. Soft light. [Tilt up, Shake] Petals fall. Premium look.',
    );
  });

  it('removing brackets keeps their clauses; adding opens later sentences of the last clause, then the end', () => {
    expect(replaceCameraMoves(DIRECTOR, [['Zoom in']]).text).toBe('[Zoom in] A perfume bottle on marble. Soft light. Petals fall. Premium look.');
    expect(replaceCameraMoves(DIRECTOR, [['Push in'], ['Pan left'], ['Static shot'], ['Pull out']]).text).toBe(
      '[Push in] A perfume bottle on marble. Soft light. [Pan left] Petals fall. [Static shot] Premium look. [Pull out]',
    );
    expect(replaceCameraMoves(DIRECTOR, []).groups).toEqual([]);
  });
});

describe('transplantCameraMoves', () => {
  it('keeps each bracket’s relative place on another description of the shot', () => {
    const compiled = sanitizeDirectorPrompt('[Push in] perfume on marble, camera closer. [Pan left] then left.');
    const placed = transplantCameraMoves(compiled, 'A perfume bottle. Marble and petals. Soft light. Premium look.');
    expect(placed.text).toBe('[Push in] A perfume bottle. Marble and petals. [Pan left] Soft light. Premium look.');
  });

  it('a bracket after the last words closes the new text', () => {
    const compiled = sanitizeDirectorPrompt('[Push in, Zoom in] perfume on marble [Pan left]');
    expect(transplantCameraMoves(compiled, 'One. Two. Three.').text).toBe('[Push in, Zoom in] One. Two. Three. [Pan left]');
  });
});

describe('checkCameraMoves', () => {
  it('accepts the 15 commands, 1–3 per bracket, up to 6 brackets', () => {
    expect(checkCameraMoves([['Push in'], ['Pan left', 'Pedestal up', 'Zoom out']])).toEqual({ moves: [['Push in'], ['Pan left', 'Pedestal up', 'Zoom out']] });
    expect(checkCameraMoves([])).toEqual({ moves: [] });
  });

  it.each([
    [[['push in']], 'CAMERA_MOVES_INVALID'],
    [[['Push in', 'Push in']], 'CAMERA_MOVES_INVALID'],
    [[[1]], 'CAMERA_MOVES_INVALID'],
    [{}, 'CAMERA_MOVES_INVALID'],
    [[[]], 'CAMERA_BRACKET_EMPTY'],
    [[['Push in', 'Pan left', 'Tilt up', 'Shake']], 'CAMERA_BRACKET_TOO_FULL'],
    [Array.from({ length: 7 }, () => ['Shake']), 'CAMERA_MOVES_TOO_MANY'],
  ])('refuses %j as %s', (input, problem) => {
    expect(checkCameraMoves(input)).toEqual({ problem });
  });
});

describe('the seller’s words for commands and templates', () => {
  it('names and describes each of the 15 commands in both languages, each in one group', () => {
    expect(CAMERA_GROUPS.flatMap((g) => g.commands).sort()).toEqual([...CAMERA_COMMANDS].sort());
    for (const command of CAMERA_COMMANDS) {
      for (const key of [cameraNameKey(command), cameraHintKey(command)]) {
        expect(promptMessages.ru[key], key).toMatch(/\p{Script=Cyrillic}/u);
        expect(promptMessages.en[key], key).toMatch(/^[\x20-\x7e]+$/);
      }
    }
    for (const group of CAMERA_GROUPS) expect(promptMessages.ru[`ui.camera.group.${group.id}`] && promptMessages.en[`ui.camera.group.${group.id}`]).toBeTruthy();
  });

  it('gives every template a Russian and English name, description and the products it suits', () => {
    for (const template of TEMPLATE_CATALOG) {
      for (const field of ['name', 'description', 'suits']) {
        const key = `templates.${template.id}.${field}`;
        expect(promptMessages.ru[key], key).toMatch(/\p{Script=Cyrillic}/u);
        expect(promptMessages.en[key], key).toBeTruthy();
      }
    }
  });

  it('has the same keys in both languages, with the same placeholders', () => {
    expectBilingual(promptMessages);
  });
});

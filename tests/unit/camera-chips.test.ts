import { describe, expect, it } from 'vitest';
import { addStep, addToStep, canAddStep, canAddToStep, moveStep, removeFromStep, type CameraMoves } from '../../src/scripts/camera-chips.ts';

const MOVES: CameraMoves = [['Push in'], ['Pan left', 'Pedestal up']];

describe('camera chip editor rules', () => {
  it('adds a command to a step, up to 3 acting at once', () => {
    const added = addToStep(MOVES, 1, 'Zoom in');
    expect(added).toEqual({ moves: [['Push in'], ['Pan left', 'Pedestal up', 'Zoom in']] });
    const full = 'moves' in added ? added.moves : MOVES;
    expect(canAddToStep(full, 1)).toBe(false);
    expect(addToStep(full, 1, 'Shake')).toEqual({ refused: 'step-full' });
    expect(canAddToStep(full, 0)).toBe(true);
  });

  it('refuses a repeat in one step, an unknown command and a missing step', () => {
    expect(addToStep(MOVES, 0, 'Push in')).toEqual({ refused: 'already-in-step' });
    expect(addToStep(MOVES, 0, 'Orbit')).toEqual({ refused: 'unknown-command' });
    expect(addToStep(MOVES, 5, 'Zoom in')).toEqual({ refused: 'no-such-step' });
    expect(addStep(MOVES, 'push in')).toEqual({ refused: 'unknown-command' });
  });

  it('adds steps up to 6', () => {
    let moves: CameraMoves = [];
    for (let i = 0; i < 6; i += 1) {
      const next = addStep(moves, 'Push in');
      expect('moves' in next).toBe(true);
      if ('moves' in next) moves = next.moves;
    }
    expect(moves).toHaveLength(6);
    expect(canAddStep(moves)).toBe(false);
    expect(addStep(moves, 'Zoom in')).toEqual({ refused: 'too-many-steps' });
  });

  it('removes a command, and a step left empty', () => {
    expect(removeFromStep(MOVES, 1, 'Pan left')).toEqual({ moves: [['Push in'], ['Pedestal up']] });
    expect(removeFromStep(MOVES, 0, 'Push in')).toEqual({ moves: [['Pan left', 'Pedestal up']] });
    expect(removeFromStep(MOVES, 0, 'Zoom in')).toEqual({ refused: 'no-such-step' });
  });

  it('reorders steps and leaves the ends alone', () => {
    expect(moveStep(MOVES, 1, -1)).toEqual({ moves: [['Pan left', 'Pedestal up'], ['Push in']] });
    expect(moveStep(MOVES, 0, 1)).toEqual({ moves: [['Pan left', 'Pedestal up'], ['Push in']] });
    expect(moveStep(MOVES, 0, -1)).toEqual({ moves: MOVES });
    expect(moveStep(MOVES, 1, 1)).toEqual({ moves: MOVES });
  });

  it('never changes the list it was given', () => {
    const before = JSON.stringify(MOVES);
    addToStep(MOVES, 0, 'Zoom in');
    addStep(MOVES, 'Shake');
    removeFromStep(MOVES, 1, 'Pan left');
    moveStep(MOVES, 0, 1);
    expect(JSON.stringify(MOVES)).toBe(before);
  });
});

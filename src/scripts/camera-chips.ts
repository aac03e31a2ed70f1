import { isCameraCommand, MAX_COMMANDS_PER_BRACKET, type CameraCommand } from '../lib/prompt/camera-commands.ts';
import { MAX_CAMERA_BRACKETS } from '../lib/prompt/camera-edit.ts';

/**
 * The chip editor's rules (issue 16, item 2), as pure functions on the list of steps: each
 * step is one bracket of commands acting at once (at most 3), steps act one after another
 * (at most 6). Every edit returns a new list, or the reason it is refused, so the page
 * never sends the server a list it would refuse.
 */

export type CameraMoves = CameraCommand[][];
export type ChipRefusal = 'step-full' | 'already-in-step' | 'too-many-steps' | 'unknown-command' | 'no-such-step';
export type ChipEdit = { moves: CameraMoves } | { refused: ChipRefusal };

const copy = (moves: CameraMoves): CameraMoves => moves.map((step) => [...step]);

export function canAddToStep(moves: CameraMoves, step: number): boolean {
  const target = moves[step];
  return target !== undefined && target.length < MAX_COMMANDS_PER_BRACKET;
}

export function canAddStep(moves: CameraMoves): boolean {
  return moves.length < MAX_CAMERA_BRACKETS;
}

/** Adds a command to a step (it then acts at the same time as the others there). */
export function addToStep(moves: CameraMoves, step: number, command: string): ChipEdit {
  if (!isCameraCommand(command)) return { refused: 'unknown-command' };
  const target = moves[step];
  if (!target) return { refused: 'no-such-step' };
  if (target.includes(command)) return { refused: 'already-in-step' };
  if (target.length >= MAX_COMMANDS_PER_BRACKET) return { refused: 'step-full' };
  const next = copy(moves);
  next[step]!.push(command);
  return { moves: next };
}

/** A new last step with one command. */
export function addStep(moves: CameraMoves, command: string): ChipEdit {
  if (!isCameraCommand(command)) return { refused: 'unknown-command' };
  if (!canAddStep(moves)) return { refused: 'too-many-steps' };
  return { moves: [...copy(moves), [command]] };
}

/** Removes a command; a step left empty disappears. */
export function removeFromStep(moves: CameraMoves, step: number, command: CameraCommand): ChipEdit {
  const target = moves[step];
  if (!target?.includes(command)) return { refused: 'no-such-step' };
  const next = copy(moves);
  next[step] = target.filter((c) => c !== command);
  return { moves: next.filter((s) => s.length > 0) };
}

/** Moves a step earlier (-1) or later (+1); at either end nothing changes. */
export function moveStep(moves: CameraMoves, step: number, by: -1 | 1): ChipEdit {
  const to = step + by;
  if (!moves[step]) return { refused: 'no-such-step' };
  if (to < 0 || to >= moves.length) return { moves: copy(moves) };
  const next = copy(moves);
  [next[step], next[to]] = [next[to]!, next[step]!];
  return { moves: next };
}

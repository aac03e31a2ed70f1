import {
  formatBracket,
  isCameraCommand,
  MAX_COMMANDS_PER_BRACKET,
  sanitizeDirectorPrompt,
  stripCameraBrackets,
  type CameraCommand,
  type SanitizedPrompt,
} from './camera-commands.ts';

/**
 * Moving camera brackets between texts, in prompt order (brackets at different places act
 * one after another, reference §6): the seller's edited moves replacing the compiler's, and
 * the compiler's moves carried over onto the enhancer's description when the two ran side
 * by side. Pure functions; every result goes through the sanitiser.
 */

/** The most brackets one prompt may carry: each acts for a part of a 6–10 s video. */
export const MAX_CAMERA_BRACKETS = 6;

export type CameraMovesProblem = 'CAMERA_MOVES_INVALID' | 'CAMERA_MOVES_TOO_MANY' | 'CAMERA_BRACKET_TOO_FULL' | 'CAMERA_BRACKET_EMPTY';

/** Checks an edited list of brackets: the 15 commands only, 1–3 per bracket, no repeats in one. */
export function checkCameraMoves(input: unknown): { moves: CameraCommand[][] } | { problem: CameraMovesProblem } {
  if (!Array.isArray(input)) return { problem: 'CAMERA_MOVES_INVALID' };
  if (input.length > MAX_CAMERA_BRACKETS) return { problem: 'CAMERA_MOVES_TOO_MANY' };
  const moves: CameraCommand[][] = [];
  for (const bracket of input) {
    if (!Array.isArray(bracket) || !bracket.every((c): c is string => typeof c === 'string' && isCameraCommand(c))) {
      return { problem: 'CAMERA_MOVES_INVALID' };
    }
    if (bracket.length === 0) return { problem: 'CAMERA_BRACKET_EMPTY' };
    if (bracket.length > MAX_COMMANDS_PER_BRACKET) return { problem: 'CAMERA_BRACKET_TOO_FULL' };
    if (new Set(bracket).size !== bracket.length) return { problem: 'CAMERA_MOVES_INVALID' };
    moves.push([...bracket] as CameraCommand[]);
  }
  return { moves };
}

const BRACKET = /\[([^\]]*)\]/g;

/** The text before the first bracket, then the text that follows each bracket. */
function splitClauses(director: string): string[] {
  const clauses: string[] = [];
  let last = 0;
  for (const m of director.matchAll(BRACKET)) {
    clauses.push(director.slice(last, m.index));
    last = (m.index ?? 0) + m[0].length;
  }
  clauses.push(director.slice(last));
  return clauses;
}

function sentencesOf(text: string): string[] {
  return text.match(/[^.!?]+[.!?]*/g)?.map((s) => s.trim()).filter(Boolean) ?? [];
}

/**
 * The seller's moves in place of the compiler's: the i-th edited bracket stands where the
 * i-th bracket stood (before the clause it belonged to); brackets removed leave their clause
 * without one; added ones open the following sentences of the last clause, then close the prompt.
 */
export function replaceCameraMoves(director: string, moves: CameraCommand[][]): SanitizedPrompt {
  const [lead, ...bracketed] = splitClauses(director);
  const pieces: string[] = [lead ?? ''];
  bracketed.forEach((clause, i) => {
    const move = moves[i];
    if (move) pieces.push(formatBracket(move));
    pieces.push(clause);
  });
  const extra = moves.slice(bracketed.length);
  if (extra.length > 0) {
    // Open later sentences of the last clause with the added moves, in order.
    const tail = pieces.pop() ?? '';
    const sentences = sentencesOf(tail);
    const [first, ...rest] = sentences;
    const rebuilt: string[] = first ? [first] : [];
    rest.forEach((sentence) => {
      const move = extra.shift();
      if (move) rebuilt.push(formatBracket(move));
      rebuilt.push(sentence);
    });
    for (const move of extra) rebuilt.push(formatBracket(move));
    pieces.push(rebuilt.join(' '));
  }
  return sanitizeDirectorPrompt(pieces.join(' '));
}

/**
 * The compiler's brackets carried onto another description of the same shot: each bracket
 * keeps its relative place (how far through the compiler's sentences it stood), rounded to
 * the nearest sentence start of the new text.
 */
export function transplantCameraMoves(compiled: SanitizedPrompt, description: string): SanitizedPrompt {
  const total = Math.max(1, sentencesOf(stripCameraBrackets(compiled.text)).length);
  const target = sentencesOf(stripCameraBrackets(description));
  const placed = new Map<number, CameraCommand[][]>();
  for (const m of compiled.text.matchAll(BRACKET)) {
    const textBefore = stripCameraBrackets(compiled.text.slice(0, m.index));
    const textAfter = stripCameraBrackets(compiled.text.slice((m.index ?? 0) + m[0].length));
    const before = sentencesOf(textBefore).length;
    // A sentence still open when the bracket comes does not count as passed; a bracket
    // after the last words closes the prompt.
    const passed = !/\p{L}/u.test(textAfter) ? total : /[.!?]\s*$/.test(textBefore) ? before : Math.max(0, before - 1);
    const at = Math.round((passed / total) * target.length);
    const group = (m[1] ?? '').split(', ').filter(isCameraCommand);
    if (group.length > 0) placed.set(at, [...(placed.get(at) ?? []), group]);
  }
  const pieces: string[] = [];
  for (let i = 0; i <= target.length; i += 1) {
    for (const group of placed.get(i) ?? []) pieces.push(formatBracket(group));
    const sentence = target[i];
    if (sentence) pieces.push(sentence);
  }
  return sanitizeDirectorPrompt(pieces.join(' '));
}

/** The command groups a director prompt carries, in order (what the chips show). */
export function cameraMovesOf(director: string): CameraCommand[][] {
  return sanitizeDirectorPrompt(director).groups;
}

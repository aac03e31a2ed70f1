/**
 * MiniMax director camera commands (reference/minimax-api.md §6): the 15 valid commands,
 * and the sanitiser every prompt passes through before it reaches MiniMax.
 *
 * Invariants of `sanitizeDirectorPrompt`'s output:
 * - every `[...]` holds 1–3 valid commands in their canonical English spelling;
 * - no bracket repeats the one right before it (only whitespace between);
 * - the text is at most `MAX_PROMPT_CHARS` characters and never cut inside a bracket.
 */

export const CAMERA_COMMANDS = [
  'Truck left',
  'Truck right',
  'Pan left',
  'Pan right',
  'Push in',
  'Pull out',
  'Pedestal up',
  'Pedestal down',
  'Tilt up',
  'Tilt down',
  'Zoom in',
  'Zoom out',
  'Shake',
  'Tracking shot',
  'Static shot',
] as const;
export type CameraCommand = (typeof CAMERA_COMMANDS)[number];

/** MiniMax's prompt limit (reference §3). */
export const MAX_PROMPT_CHARS = 2000;
/** The recommended maximum of simultaneous commands in one bracket. */
export const MAX_COMMANDS_PER_BRACKET = 3;

/** The mainland spelling of each command. */
const CHINESE_ALIASES: Record<string, CameraCommand> = {
  左移: 'Truck left',
  右移: 'Truck right',
  左摇: 'Pan left',
  右摇: 'Pan right',
  推进: 'Push in',
  拉远: 'Pull out',
  上升: 'Pedestal up',
  下降: 'Pedestal down',
  上摇: 'Tilt up',
  下摇: 'Tilt down',
  变焦推近: 'Zoom in',
  变焦拉远: 'Zoom out',
  晃动: 'Shake',
  跟随: 'Tracking shot',
  固定: 'Static shot',
};

/** Spellings models commonly produce for the same moves (compared without spaces, dashes, case). */
const ENGLISH_ALIASES: Record<string, CameraCommand> = {
  dollyin: 'Push in',
  dollyout: 'Pull out',
  pullback: 'Pull out',
  pushout: 'Pull out',
  tracking: 'Tracking shot',
  follow: 'Tracking shot',
  followshot: 'Tracking shot',
  static: 'Static shot',
  staticcamera: 'Static shot',
  shakeshot: 'Shake',
  camerashake: 'Shake',
};

const CANONICAL_BY_KEY = new Map<string, CameraCommand>([
  ...CAMERA_COMMANDS.map((c) => [keyOf(c), c] as const),
  ...Object.entries(ENGLISH_ALIASES),
]);

function keyOf(text: string): string {
  return text.toLowerCase().replace(/[\s_\-.]+/g, '');
}

/** The canonical command for one spelling (`push in`, `PUSH-IN`, `推进`), or null. */
export function normalizeCameraCommand(raw: string): CameraCommand | null {
  const trimmed = raw.trim();
  if (!trimmed) return null;
  return CHINESE_ALIASES[trimmed.replace(/\s+/g, '')] ?? CANONICAL_BY_KEY.get(keyOf(trimmed)) ?? null;
}

export function isCameraCommand(value: string): value is CameraCommand {
  return (CAMERA_COMMANDS as readonly string[]).includes(value);
}

/** `[Pan left, Pedestal up]` for a group of simultaneous commands. */
export function formatBracket(commands: readonly CameraCommand[]): string {
  return `[${commands.join(', ')}]`;
}

export interface SanitizedPrompt {
  text: string;
  /** Bracket groups in prompt order (each acts in sequence). */
  groups: CameraCommand[][];
  /** The distinct commands used, in order of first appearance. */
  commands: CameraCommand[];
  /** Bracket contents that were dropped (unknown commands, extras beyond 3). */
  removed: string[];
}

// Square brackets and their full-width and CJK lenticular forms, which models emit in Chinese text.
const BRACKET_PATTERN = /[[［【]([^\][［］【】]*)[\]］】]/g;

export function sanitizeDirectorPrompt(input: string, maxChars = MAX_PROMPT_CHARS): SanitizedPrompt {
  const removed: string[] = [];
  let previousGroupKey: string | null = null;
  let lastEnd = 0;
  const pieces: string[] = [];

  for (const match of input.matchAll(BRACKET_PATTERN)) {
    const start = match.index ?? 0;
    const between = input.slice(lastEnd, start);
    lastEnd = start + match[0].length;

    const group: CameraCommand[] = [];
    for (const part of (match[1] ?? '').split(/[,，、;+&]|\band\b/)) {
      const command = normalizeCameraCommand(part);
      if (!command) {
        if (part.trim()) removed.push(part.trim());
        continue;
      }
      if (group.includes(command)) continue;
      if (group.length >= MAX_COMMANDS_PER_BRACKET) {
        removed.push(command);
        continue;
      }
      group.push(command);
    }

    pieces.push(between);
    if (group.length === 0) continue;
    const groupKey = group.join('|');
    // Two identical brackets with nothing but spaces between them are one move, said twice.
    if (groupKey === previousGroupKey && between.trim() === '') continue;
    pieces.push(formatBracket(group));
    previousGroupKey = groupKey;
  }
  pieces.push(input.slice(lastEnd));

  const text = truncatePrompt(tidySpaces(pieces.join('')), maxChars);
  const groups = [...text.matchAll(BRACKET_PATTERN)].map((m) =>
    (m[1] ?? '').split(', ').filter(isCameraCommand),
  );
  const commands: CameraCommand[] = [];
  for (const command of groups.flat()) if (!commands.includes(command)) commands.push(command);
  return { text, groups, commands, removed };
}

function tidySpaces(text: string): string {
  return text
    .replace(/[ \t]+/g, ' ')
    .replace(/ +([,.;:!?])/g, '$1')
    .replace(/\](?=[^\s,.;:!?\]])/g, '] ')
    .replace(/([^\s[(])\[/g, '$1 [')
    .trim();
}

/**
 * Cuts to `maxChars` at a sentence end or a space, never inside a bracket, so the tail
 * is a readable phrase and every remaining command is whole.
 */
export function truncatePrompt(text: string, maxChars = MAX_PROMPT_CHARS): string {
  if (text.length <= maxChars) return text;
  let cut = text.slice(0, maxChars);
  const open = cut.lastIndexOf('[');
  if (open > cut.lastIndexOf(']')) cut = cut.slice(0, open);
  const sentenceEnd = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('! '), cut.lastIndexOf('? '));
  if (sentenceEnd > maxChars * 0.6) return cut.slice(0, sentenceEnd + 1).trim();
  const space = cut.lastIndexOf(' ');
  return (space > maxChars * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, '').trim();
}

/** Removes every bracket (valid or not): the plain description without camera moves. */
export function stripCameraBrackets(text: string): string {
  return tidySpaces(text.replace(BRACKET_PATTERN, ' '));
}

import { formatBracket, sanitizeDirectorPrompt, type CameraCommand } from './camera-commands.ts';

/**
 * Deterministic camera moves from motion phrases (Russian and English). This is the
 * camera compiler's fallback when the model is down, so it must be predictable:
 * matches are taken in text order, the longest phrase wins where two overlap, and
 * the same move said twice in a row counts once.
 */

export interface MotionRule {
  id: string;
  pattern: RegExp;
  commands: CameraCommand[];
}

// `(?<!\p{L})` instead of \b: JavaScript's \b knows only ASCII letters, not Cyrillic.
const rule = (id: string, body: string, commands: CameraCommand[]): MotionRule => ({
  id,
  pattern: new RegExp(`(?<!\\p{L})(?:${body})`, 'giu'),
  commands,
});

export const MOTION_RULES: MotionRule[] = [
  rule(
    'orbit',
    'облёт\\p{L}*|облет\\p{L}*|(?:движется|кружит|летит|едет|проходит)\\s+вокруг|вокруг\\s+(?:товара|продукта|предмета|объекта|него|неё|нее|бутылки|флакона)|вращ\\p{L}*|крут\\p{L}*ся|orbit\\p{L}*|circles?\\s+around|rotat\\p{L}*|spin(?:s|ning)?|360',
    ['Truck left', 'Pan right'],
  ),
  rule(
    'push-in',
    'прибл[иеэ]ж\\p{L}*|наезд\\p{L}*|нае(?:з)?жа\\p{L}*|крупн\\p{L}*\\s+план\\p{L}*|крупнее|крупно|push(?:es|ing)?\\s+in|dolly\\s+in|close[- ]?up|moves?\\s+closer|approach\\p{L}*',
    ['Push in'],
  ),
  rule(
    'pull-out',
    'от[ъь]езд\\p{L}*|от[ъь]езжа\\p{L}*|отдаля\\p{L}*|удаля\\p{L}*|общий\\s+план|pull(?:s|ing)?\\s+(?:out|back)|dolly\\s+out|moves?\\s+away',
    ['Pull out'],
  ),
  rule('zoom-out', 'зум\\p{L}*\\s+назад|уменьшени\\p{L}*|отдалени\\p{L}*\\s+зум\\p{L}*|zoom(?:s|ing)?\\s+out', ['Zoom out']),
  rule('zoom-in', 'зум\\p{L}*|увеличени\\p{L}*|zoom(?:s|ing)?\\s+in', ['Zoom in']),
  rule(
    'pan-left',
    'панорам\\p{L}*\\s+(?:влево|налево)|повор[оа][тч]\\p{L}*\\s+(?:камеры\\s+)?(?:влево|налево)|справа\\s+налево|pan(?:s|ning)?\\s+(?:to\\s+the\\s+)?left',
    ['Pan left'],
  ),
  rule(
    'pan-right',
    'панорам\\p{L}*\\s+(?:вправо|направо)|повор[оа][тч]\\p{L}*\\s+(?:камеры\\s+)?(?:вправо|направо)|слева\\s+направо|pan(?:s|ning)?\\s+(?:to\\s+the\\s+)?right',
    ['Pan right'],
  ),
  rule(
    'truck-left',
    '(?:сдвиг\\p{L}*|смещ\\p{L}*|движ\\p{L}*|едет|скольз\\p{L}*|плывёт|плывет)\\s+влево|truck(?:s|ing)?\\s+left|slides?\\s+(?:to\\s+the\\s+)?left',
    ['Truck left'],
  ),
  rule(
    'truck-right',
    '(?:сдвиг\\p{L}*|смещ\\p{L}*|движ\\p{L}*|едет|скольз\\p{L}*|плывёт|плывет)\\s+вправо|truck(?:s|ing)?\\s+right|slides?\\s+(?:to\\s+the\\s+)?right',
    ['Truck right'],
  ),
  rule(
    'tracking',
    'следу\\p{L}*\\s+за|следит\\p{L}*|сопровожда\\p{L}*|follow(?:s|ing)?|tracking',
    ['Tracking shot'],
  ),
  rule(
    'tilt-down',
    'сверху\\s+вниз|наклон\\p{L}*\\s+вниз|вид\\s+сверху|сверху|tilt(?:s|ing)?\\s+down|from\\s+above|top[- ]down',
    ['Tilt down'],
  ),
  rule(
    'tilt-up',
    'снизу\\s+вверх|наклон\\p{L}*\\s+вверх|вид\\s+снизу|снизу|tilt(?:s|ing)?\\s+up|from\\s+below',
    ['Tilt up'],
  ),
  rule(
    'pedestal-up',
    'подним\\p{L}*(?:\\s+(?:снизу\\s+вверх|снизу|вверх|от\\s+пола))?|поднят\\p{L}*\\s+камер\\p{L}*|взмыва\\p{L}*|взлета\\p{L}*|pedestal\\s+up|crane\\s+up|rises|rising',
    ['Pedestal up'],
  ),
  rule('pedestal-down', 'опуска\\p{L}*(?:\\s+(?:сверху\\s+вниз|сверху|вниз))?|pedestal\\s+down|crane\\s+down|descend\\p{L}*|lowers', ['Pedestal down']),
  rule(
    'shake',
    'тряс\\p{L}*|тряск\\p{L}*|дрож\\p{L}*|ручн\\p{L}*\\s+камер\\p{L}*|shak\\p{L}*|handheld|jitter\\p{L}*',
    ['Shake'],
  ),
  rule('static', 'статич\\p{L}*|неподвиж\\p{L}*|без\\s+движения\\s+камеры|static|still\\s+camera|locked[- ]off', [
    'Static shot',
  ]),
];

export interface MotionMatch {
  rule: string;
  phrase: string;
  index: number;
  commands: CameraCommand[];
}

/** Motion phrases found in the text, in order, overlaps resolved to the longest phrase. */
export function findMotionPhrases(text: string): MotionMatch[] {
  const all: MotionMatch[] = [];
  for (const r of MOTION_RULES) {
    for (const m of text.matchAll(r.pattern)) {
      all.push({ rule: r.id, phrase: m[0], index: m.index ?? 0, commands: r.commands });
    }
  }
  all.sort((a, b) => a.index - b.index || b.phrase.length - a.phrase.length);
  const kept: MotionMatch[] = [];
  let coveredUntil = -1;
  for (const match of all) {
    if (match.index < coveredUntil) continue;
    kept.push(match);
    coveredUntil = match.index + match.phrase.length;
  }
  return kept;
}

/** Command groups in the order the text asks for them; a move repeated back to back counts once. */
export function detectCameraMoves(text: string): CameraCommand[][] {
  const groups: CameraCommand[][] = [];
  for (const match of findMotionPhrases(text)) {
    const last = groups[groups.length - 1];
    if (last && last.join('|') === match.commands.join('|')) continue;
    groups.push([...match.commands]);
  }
  return groups;
}

/** A product shot with no motion asked for: a slow push-in is the safe, flattering default. */
export const DEFAULT_PRODUCT_MOVE: CameraCommand[] = ['Push in'];

/**
 * Places the moves over the description's sentences: the first move leads the prompt,
 * each next one opens the next sentence, extra moves close the prompt in order
 * (brackets at different positions act in sequence, reference §6).
 */
export function placeCameraMoves(description: string, groups: CameraCommand[][]): string {
  const moves = groups.length > 0 ? groups : [DEFAULT_PRODUCT_MOVE];
  const sentences = description.match(/[^.!?]+[.!?]*/g)?.map((s) => s.trim()).filter(Boolean) ?? [];
  const parts: string[] = [];
  const count = Math.max(sentences.length, moves.length);
  for (let i = 0; i < count; i += 1) {
    const move = moves[i];
    if (move) parts.push(formatBracket(move));
    const sentence = sentences[i];
    if (sentence) parts.push(sentence);
  }
  return sanitizeDirectorPrompt(parts.join(' ')).text;
}

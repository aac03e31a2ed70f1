import { readScene, type SceneReading } from './product-lexicon.ts';

/**
 * The rules engine's English: whole sentences built from what `readScene` understood of
 * the seller's Russian, never a word-by-word mix. Anything it does not know is left out, so
 * the text is always grammatical English that names the product (or "the product").
 */

const VOWEL_SOUND = /^[aeiou]/i;

/** "white sneakers", "a red lipstick", "an aroma diffuser", "coffee". */
export function productPhrase(scene: SceneReading): string {
  const noun = scene.product?.en ?? 'product';
  const words = [...scene.adjectives, noun].join(' ');
  if (!scene.product) return scene.adjectives.length > 0 ? `the ${words}` : 'the product';
  if (scene.product.kind !== 'one') return words;
  return `${VOWEL_SOUND.test(words) ? 'an' : 'a'} ${words}`;
}

function listOf(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** One clause: the product, where it is, what it does, what surrounds it. */
export function sceneClause(scene: SceneReading): string {
  const parts = [productPhrase(scene)];
  if (scene.setting) parts.push(scene.setting);
  let clause = parts.join(' ');
  if (scene.action) clause += `, ${scene.action}`;
  if (scene.effects.length > 0) clause += `, surrounded by ${listOf(scene.effects)}`;
  return clause;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Prompt mode: a cinematic paragraph for the video model. */
export function writeCinematicEnglish(userText: string): string {
  const scene = readScene(userText);
  const mood = scene.mood ? `${capitalise(scene.mood)} mood` : 'Calm premium mood';
  return `Cinematic product shot: ${sceneClause(scene)}. ${mood}, soft studio light, shallow depth of field, rich detail, premium advertising look.`;
}

/** Template mode: one short line the template router reads. */
export function writeTemplateEnglish(userText: string): string {
  const scene = readScene(userText);
  const mood = scene.mood ? ` ${capitalise(scene.mood)} mood.` : '';
  return `Advertising video: ${sceneClause(scene)}. Clean composition, premium look.${mood}`;
}

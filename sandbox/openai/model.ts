import { detectCameraMoves, DEFAULT_PRODUCT_MOVE, placeCameraMoves } from '../../src/lib/prompt/motion-rules.ts';
import { readScene } from '../../src/lib/prompt/product-lexicon.ts';
import { sceneClause } from '../../src/lib/prompt/english-writer.ts';
import { chooseTemplateByKeywords, fillTextInputs } from '../../src/lib/prompt/template-rules.ts';
import { rankTemplates } from '../../src/lib/prompt/template-fit.ts';

/**
 * The sandbox "model": deterministic answers for Beem's three prompt phases, good enough
 * to see the product work offline. It reads the same labelled user message a real
 * model gets, understands it with the rules engine's lexicon (product, place, action,
 * surroundings, mood) and adds the cinematic detail a model adds.
 */

export type Phase = 'enhancer_prompt' | 'enhancer_template' | 'compiler' | 'router' | 'other';

export function detectPhase(system: string, schemaName: string | null): Phase {
  const name = schemaName ?? '';
  if (name.includes('enhancer_template') || /enhancer \(phase 1, template mode\)/i.test(system)) return 'enhancer_template';
  if (name.includes('enhancer') || /prompt enhancer/i.test(system)) return 'enhancer_prompt';
  if (name.includes('camera_compiler') || /camera prompt compiler/i.test(system)) return 'compiler';
  if (name.includes('template_router') || /template router/i.test(system)) return 'router';
  return 'other';
}

/** The text under a label like "Original request:" up to the next blank line. */
export function section(user: string, label: string): string {
  const start = user.indexOf(`${label}:\n`);
  if (start < 0) return '';
  const rest = user.slice(start + label.length + 2);
  const end = rest.indexOf('\n\n');
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

/** Russian in, English out, by the rules engine's lexicon: words it does not know are left out. */
export function toEnglish(text: string): string {
  return sceneClause(readScene(text));
}

const MOOD: Array<[RegExp, string]> = [
  [/perfume|flacon|cosmetics|cream|lipstick/i, 'Glossy reflections, elegant soft-box highlights, a luxurious beauty-commercial mood.'],
  [/drink|juice|water|wine|beer|coffee|tea|lemonade|bottle/i, 'Condensation droplets catch the light, crisp backlight makes the liquid glow, a refreshing mood.'],
  [/sneakers|shoes|bag|jacket|dress|t-shirt|shirt|clothing/i, 'Textured fabric detail, dynamic rim light, a confident lifestyle-ad mood.'],
  [/watch|ring|necklace|earrings|jewelry/i, 'Sparkling specular highlights on metal, deep black background, a premium jewellery-ad mood.'],
  [/cat|dog|puppy|pet/i, 'Warm natural light, playful energy, a heart-warming mood.'],
];

export function enhancerAnswer(phase: 'enhancer_prompt' | 'enhancer_template', userText: string): string {
  // The same reading of the seller's words as the rules engine, so the English is whole sentences.
  const subject = sceneClause(readScene(userText));
  if (phase === 'enhancer_template') return `Advertising video of ${subject}, clean premium look.`;
  const mood = MOOD.find(([pattern]) => pattern.test(subject))?.[1] ?? 'Soft diffused studio lighting, a calm premium commercial mood.';
  return `A cinematic advertising shot: ${subject}. ${mood} Shallow depth of field, 35mm lens, smooth fluid motion, 4K detail.`;
}

export function compilerAnswer(original: string, cinematic: string): string {
  const moves = detectCameraMoves(original);
  return placeCameraMoves(cinematic || enhancerAnswer('enhancer_prompt', original), moves.length > 0 ? moves : [DEFAULT_PRODUCT_MOVE]);
}

export function routerAnswer(original: string, description: string): { template_id: string; text_inputs: string[]; reason: string } {
  // A sensible model picks what the request has the inputs for, as the rules do.
  const ranking = rankTemplates(original);
  const fitting = ranking.fitting[0];
  const byUser = chooseTemplateByKeywords(original);
  const match = fitting
    ? { template: fitting, matched: ranking.because }
    : byUser.matched.length > 0
      ? byUser
      : chooseTemplateByKeywords(description);
  const reason =
    match.matched.length > 0
      ? `The request mentions ${match.matched.slice(0, 3).join(', ')}, which fits "${match.template.name.en}".`
      : `A product photo with no specific scene suits "${match.template.name.en}".`;
  return {
    template_id: match.template.id,
    text_inputs: fillTextInputs(match.template, original, description).map((v) => toEnglishInput(v)),
    reason,
  };
}

/** Text inputs must be English; quoted words the user wants written stay as they are. */
function toEnglishInput(value: string): string {
  return /[\p{Script=Cyrillic}]/u.test(value) && value.split(/\s+/).length > 3 ? toEnglish(value) : value;
}

/** Some value that satisfies a JSON Schema (for requests from other callers, e.g. SDK tests). */
export function sampleFromSchema(schema: unknown, defs: Record<string, unknown> = {}): unknown {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as Record<string, unknown>;
  const localDefs = { ...defs, ...((s.$defs ?? s.definitions ?? {}) as Record<string, unknown>) };
  if (typeof s.$ref === 'string') return sampleFromSchema(localDefs[s.$ref.split('/').pop() ?? ''], localDefs);
  if (Array.isArray(s.enum)) return s.enum[0];
  if ('const' in s) return s.const;
  const anyOf = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(anyOf)) return sampleFromSchema(anyOf.find((o) => (o as { type?: string }).type !== 'null') ?? anyOf[0], localDefs);
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') as string) : (s.type as string | undefined);
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, sampleFromSchema(v, localDefs)]));
    }
    case 'array':
      return [];
    case 'string':
      return 'sandbox';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

import type { CameraCommand } from '../prompt/camera-commands.ts';
import { cameraNameKey } from '../prompt/camera-menu.ts';
import { t } from '../i18n/index.ts';
import { chooseTemplateByKeywords } from '../prompt/template-rules.ts';
import { findProduct } from '../prompt/product-lexicon.ts';
import { tn } from '../i18n/plural.ts';

/**
 * `summaryRu`: one or two Russian sentences saying what the video will show and how the
 * camera moves, or which template was chosen and why (issue 16). Built from the seller's own
 * words and the chosen moves, so it never says more than the prompt will.
 */

const MAX_SCENE_CHARS = 160;

/** The seller's description as the scene, cut at a word near 160 characters. */
function sceneOf(prompt: string): string {
  const clean = prompt.replace(/\s+/g, ' ').trim().replace(/[.!?…]+$/, '');
  if (clean.length <= MAX_SCENE_CHARS) return clean;
  const cut = clean.slice(0, MAX_SCENE_CHARS);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), MAX_SCENE_CHARS / 2))}…`;
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

/** "наезд, затем поворот влево и подъём". */
export function describeMovesRu(moves: CameraCommand[][]): string {
  return moves
    .map((group) => group.map((command) => lowerFirst(t('ru', cameraNameKey(command)))).join(t('ru', 'preview.moves.and')))
    .join(t('ru', 'preview.moves.then'));
}

export function promptSummaryRu(prompt: string, moves: CameraCommand[][]): string {
  const scene = sceneOf(prompt);
  return moves.length > 0 ? t('ru', 'preview.summary.prompt', { scene, moves: describeMovesRu(moves) }) : t('ru', 'preview.summary.prompt.noMoves', { scene });
}

/** The seller's words that made a template fit: its keywords, or the product it suits. */
function reasonWords(prompt: string, templateId: string): string | null {
  const match = chooseTemplateByKeywords(prompt, [templateId]);
  if (match.template.id === templateId && match.matched.length > 0) return match.matched.slice(0, 2).join('», «');
  const product = findProduct(prompt);
  return product ? prompt.toLowerCase().replace(/[«»"“”„]/g, ' ').slice(product.index, product.end) : null;
}

export function templateSummaryRu(prompt: string, templateId: string | null, promptCost: number): string {
  if (!templateId) return t('ru', 'preview.summary.noTemplate', { price: tn('ru', 'ui.credits', promptCost) });
  const because = reasonWords(prompt, templateId);
  const params = { name: t('ru', `templates.${templateId}.name`), description: t('ru', `templates.${templateId}.description`) };
  return because ? t('ru', 'preview.summary.template', { ...params, because }) : t('ru', 'preview.summary.template.plain', params);
}

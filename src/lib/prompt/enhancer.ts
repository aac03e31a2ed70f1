import { z } from 'zod';
import type { GenerationMode } from '../model.ts';
import type { JsonCompletionRequest, LlmClient } from '../providers/llm/client.ts';
import { LlmError } from '../providers/llm/errors.ts';
import { stripCameraBrackets, truncatePrompt } from './camera-commands.ts';
import { cyrillicShare } from './cyrillic-share.ts';
import { writeCinematicEnglish, writeTemplateEnglish } from './english-writer.ts';

/**
 * Phase 1, the smart enhancer (spec "Двухфазный Prompt Engine"): the user's text, usually
 * Russian, becomes an English cinematic description. Mode-aware: prompt mode gets a rich
 * scene for the camera compiler, template mode a short product line for the router.
 */

export const ENHANCER_MAX_TOKENS: Record<GenerationMode, number> = { template: 300, prompt: 500 };
/** Room left in MiniMax's 2000 characters for camera commands added in phase 2. */
export const MAX_CINEMATIC_CHARS = 1500;

export const enhancerAnswerSchema = z.object({
  prompt_en: z.string().describe('the English cinematic description'),
});

const SYSTEM: Record<GenerationMode, string> = {
  prompt: [
    "You are Beem's smart prompt enhancer (phase 1, prompt mode).",
    'The user describes, usually in Russian, a short advertising video made from a photo of their product.',
    'Translate the request into English and expand it into one cinematic paragraph of 2-4 sentences (under 600 characters):',
    'the product as the hero, what moves, lighting, mood, background, lens feel.',
    'Keep every fact the user gave (product, colours, actions, camera moves described in words); invent nothing that contradicts the photo.',
    'Do not write camera commands in square brackets: another step adds them.',
    'Reply with a JSON object only: {"prompt_en": "<the English description>"}.',
  ].join('\n'),
  template: [
    "You are Beem's smart prompt enhancer (phase 1, template mode).",
    'The user describes, usually in Russian, an advertising video for the product in their photo; a ready-made video template will be chosen from your text.',
    'Translate the request into one or two short English sentences (under 300 characters): what the product is, who it is for, the wished mood or scene.',
    'Keep the product, animals, people, words to display and places the user named.',
    'Reply with a JSON object only: {"prompt_en": "<the English description>"}.',
  ].join('\n'),
};

export function enhancerRequest(mode: GenerationMode, userText: string, timeoutMs: number): JsonCompletionRequest<z.infer<typeof enhancerAnswerSchema>> {
  return {
    task: `beem_prompt_enhancer_${mode}`,
    schema: enhancerAnswerSchema,
    system: SYSTEM[mode],
    user: `User request:\n${userText}`,
    maxTokens: ENHANCER_MAX_TOKENS[mode],
    timeoutMs,
    temperature: 0.6,
  };
}

export async function enhanceWithModel(llm: LlmClient, mode: GenerationMode, userText: string, timeoutMs: number): Promise<string> {
  const answer = await llm.completeJson(enhancerRequest(mode, userText, timeoutMs));
  const text = stripCameraBrackets(answer.value.prompt_en).trim();
  if (text.length < 3) throw new LlmError('invalid_output', 'answer has an empty description', { requestId: answer.requestId });
  if (cyrillicShare(text) > 0.3) {
    throw new LlmError('invalid_output', 'answer is not in English', { requestId: answer.requestId });
  }
  return truncatePrompt(text, MAX_CINEMATIC_CHARS);
}

/**
 * The local stand-in when the model fails: whole English sentences built from what the
 * rules understood of the user's words (product, place, action, surroundings, mood),
 * inside a cinematic frame that suits any product shot. Words the rules do not know are
 * left out, never left in Russian.
 */
export function fallbackCinematic(mode: GenerationMode, userText: string): string {
  const text = mode === 'prompt' ? writeCinematicEnglish(userText) : writeTemplateEnglish(userText);
  return truncatePrompt(text, MAX_CINEMATIC_CHARS);
}

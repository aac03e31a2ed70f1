import { z } from 'zod';
import type { JsonCompletionRequest, LlmClient } from '../providers/llm/client.ts';
import { LlmError } from '../providers/llm/errors.ts';
import { CAMERA_COMMANDS, MAX_COMMANDS_PER_BRACKET, sanitizeDirectorPrompt, type SanitizedPrompt } from './camera-commands.ts';
import { detectCameraMoves, placeCameraMoves } from './motion-rules.ts';

/**
 * Phase 2, the camera compiler (prompt mode only): the user's request becomes a MiniMax
 * director prompt with camera commands. It reads the user's own words, not the enhancer's
 * description, so the two phases run side by side (issue 16, item 6); the engine carries
 * its brackets over onto the description. Whatever the model writes goes through the
 * sanitiser; an answer with no valid command left is treated as invalid output.
 */

export const COMPILER_MAX_TOKENS = 600;

export const compilerAnswerSchema = z.object({
  director_prompt: z.string().describe('the description with camera commands in square brackets'),
});

const SYSTEM = [
  "You are Beem's camera prompt compiler (phase 2) for the MiniMax Hailuo video model.",
  "Write a director prompt for the user's request: a short English description of the shot, sentence by sentence, with camera commands in square brackets where the camera moves.",
  `Use only these commands, spelled exactly: ${CAMERA_COMMANDS.map((c) => `[${c}]`).join(', ')}.`,
  `Up to ${MAX_COMMANDS_PER_BRACKET} commands in one bracket, separated by commas, act at the same time: [Pan left, Pedestal up].`,
  'Brackets at different places act one after another, in prompt order.',
  "Follow the camera moves the user's original request asks for; if it asks for none, choose one that flatters a product, such as [Push in].",
  'Keep it under 1500 characters, in English.',
  'Reply with a JSON object only: {"director_prompt": "<the prompt with commands>"}.',
].join('\n');

export function compilerRequest(userText: string, timeoutMs: number): JsonCompletionRequest<z.infer<typeof compilerAnswerSchema>> {
  return {
    task: 'beem_camera_compiler',
    schema: compilerAnswerSchema,
    system: SYSTEM,
    user: `Original request:\n${userText}`,
    maxTokens: COMPILER_MAX_TOKENS,
    timeoutMs,
    temperature: 0.3,
  };
}

export async function compileWithModel(llm: LlmClient, userText: string, timeoutMs: number): Promise<SanitizedPrompt> {
  const answer = await llm.completeJson(compilerRequest(userText, timeoutMs));
  const sanitized = sanitizeDirectorPrompt(answer.value.director_prompt);
  if (sanitized.commands.length === 0) {
    const dropped = sanitized.removed.length > 0 ? `; dropped ${sanitized.removed.slice(0, 5).join(', ')}` : '';
    throw new LlmError('invalid_output', `answer has no valid camera command${dropped}`, { requestId: answer.requestId });
  }
  return sanitized;
}

/**
 * The local compiler: motion phrases of the user's own words (the most faithful source
 * of what they asked for), else a product-friendly default, placed over the description.
 */
export function fallbackDirectorPrompt(userText: string, cinematic: string): SanitizedPrompt {
  const moves = detectCameraMoves(userText);
  return sanitizeDirectorPrompt(placeCameraMoves(cinematic, moves.length > 0 ? moves : detectCameraMoves(cinematic)));
}

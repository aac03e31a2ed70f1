import { z } from 'zod';
import type { JsonCompletionRequest, LlmClient } from '../providers/llm/client.ts';
import { LlmError } from '../providers/llm/errors.ts';
import type { TemplateChoice } from './types.ts';
import { describeCatalogForModel, findTemplate, TEMPLATE_CATALOG, type TemplateDefinition } from './template-catalog.ts';
import { chooseTemplateByKeywords, fillTextInputs, normalizeTextInputs } from './template-rules.ts';

/**
 * The template router (template mode): picks one catalogue template and fills its text
 * inputs. The model's id is checked against the catalogue; inputs are made to fit.
 */

export const ROUTER_MAX_TOKENS = 300;

export const routerAnswerSchema = z.object({
  template_id: z.string().describe('the id of the chosen template'),
  text_inputs: z.array(z.string()).describe('the text inputs the template takes, in English'),
  reason: z.string().describe('one short sentence: why this template'),
});

const SYSTEM = (candidates: readonly TemplateDefinition[]) =>
  [
    "You are Beem's template router for MiniMax video templates.",
    "Pick the one template that best turns the user's product photo and request into an advertising video.",
    'Only these templates fit what the user has (id "name": what it makes (inputs)):',
    describeCatalogForModel(candidates),
    'Prefer templates that use the photo. text_inputs must hold exactly as many values as the template takes (0 or 1), in English.',
    'Reply with a JSON object only: {"template_id": "<id>", "text_inputs": ["..."], "reason": "<why>"}.',
  ].join('\n');

export function routerRequest(
  userText: string,
  description: string,
  timeoutMs: number,
  candidates: readonly TemplateDefinition[] = TEMPLATE_CATALOG,
): JsonCompletionRequest<z.infer<typeof routerAnswerSchema>> {
  return {
    task: 'beem_template_router',
    schema: routerAnswerSchema,
    system: SYSTEM(candidates),
    user: `Original request:\n${userText}\n\nEnglish description:\n${description}`,
    maxTokens: ROUTER_MAX_TOKENS,
    timeoutMs,
    temperature: 0.2,
  };
}

export function toTemplateChoice(template: TemplateDefinition, textInputs: string[]): TemplateChoice {
  return { templateId: template.id, templateName: template.name.en, textInputs, usesImage: template.mediaInputs > 0 };
}

export async function routeWithModel(
  llm: LlmClient,
  userText: string,
  description: string,
  timeoutMs: number,
  candidates: readonly TemplateDefinition[] = TEMPLATE_CATALOG,
): Promise<TemplateChoice> {
  const answer = await llm.completeJson(routerRequest(userText, description, timeoutMs, candidates));
  const template = findTemplate(answer.value.template_id);
  if (!template) {
    throw new LlmError('invalid_output', `unknown template id "${answer.value.template_id.slice(0, 40)}"`, { requestId: answer.requestId });
  }
  // The model may only pick what the seller has the inputs for (issue 16, item 3).
  if (!candidates.some((c) => c.id === template.id)) {
    throw new LlmError('invalid_output', `template ${template.id} does not fit the request`, { requestId: answer.requestId });
  }
  return toTemplateChoice(template, normalizeTextInputs(template, answer.value.text_inputs, userText, description));
}

/**
 * The local router: the best fitting template (`fitting`, best first), else the keyword
 * match as before (a generation started without a preview keeps working as it did).
 */
export function fallbackTemplateChoice(userText: string, description: string, fitting: readonly TemplateDefinition[]): TemplateChoice {
  const best = fitting[0];
  if (best) return toTemplateChoice(best, fillTextInputs(best, userText, description));
  // The user's own words first: the keywords are Russian and English, the description may be a fallback too.
  const byUser = chooseTemplateByKeywords(userText);
  const match = byUser.matched.length > 0 ? byUser : chooseTemplateByKeywords(description);
  return toTemplateChoice(match.template, fillTextInputs(match.template, userText, description));
}

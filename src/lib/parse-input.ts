import type { z } from 'zod';
import { badRequest } from './errors.ts';

/**
 * Checks input with a zod schema; a bad value is a 400 naming the first bad field. Used by
 * routes and by services that check their own input (generation requests), so it belongs to
 * neither the web layer nor one service.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || undefined;
  // A schema may name its own error code in the issue message (`{ message: 'PROMPT_TOO_SHORT' }`).
  const code = issue && /^[A-Z][A-Z0-9_]+$/.test(issue.message) ? issue.message : 'VALIDATION';
  throw badRequest(code, field);
}

import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { z } from 'zod';
import type { Logger } from '../../logger.ts';
import { LlmError, toLlmError } from './errors.ts';

/**
 * The one client of the OpenAI-compatible chat endpoint (reference/openai-chat.md).
 * Every call has its own hard budget (SDK timeout + AbortSignal), no SDK retries (the
 * prompt engine falls back instead of retrying), and a JSON answer validated with zod.
 */

export type JsonMode = 'json_schema' | 'json_object';

export interface LlmClientOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  /** `json_schema` (Structured Outputs, strict) or `json_object` for endpoints without it. */
  jsonMode: JsonMode;
  log: Logger;
}

export interface JsonCompletionRequest<T> {
  /** Schema name sent with json_schema (`[a-zA-Z0-9_-]`, ≤ 64) and used in logs. */
  task: string;
  schema: z.ZodType<T>;
  system: string;
  user: string;
  maxTokens: number;
  timeoutMs: number;
  temperature?: number;
}

export interface JsonCompletion<T> {
  value: T;
  model: string;
  requestId: string | null;
  durationMs: number;
}

/** What the endpoint's model list says about OPENAI_MODEL. */
export type ModelCheck =
  | { state: 'ok' }
  /** The endpoint has no model list (many compatible ones): nothing to check. */
  | { state: 'no_model_list' }
  | { state: 'unknown_model'; available: string[] }
  | { state: 'failed'; kind: LlmError['kind']; message: string };

export interface LlmClient {
  readonly model: string;
  completeJson<T>(request: JsonCompletionRequest<T>): Promise<JsonCompletion<T>>;
  /**
   * One cheap `GET /models` at start: a wrong OPENAI_MODEL (or key) is logged as an operator
   * error at once instead of showing up as fallbacks later. Never throws; the prompt engine's
   * fallback works the same whatever it finds.
   */
  checkModel(timeoutMs?: number): Promise<ModelCheck>;
}

export function createLlmClient(options: LlmClientOptions): LlmClient {
  const log = options.log.child({ mod: 'llm' });
  // The SDK refuses an empty key at construction; a call with a wrong key fails with 401
  // instead, which the engine turns into a fallback and an alert, not a crash at start.
  const sdk = new OpenAI({ apiKey: options.apiKey || 'not-configured', baseURL: options.baseUrl, maxRetries: 0 });

  async function completeJson<T>(request: JsonCompletionRequest<T>): Promise<JsonCompletion<T>> {
    const started = Date.now();
    const responseFormat =
      options.jsonMode === 'json_schema'
        ? zodResponseFormat(request.schema, request.task)
        : ({ type: 'json_object' } as const);
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    let requestId: string | null = null;
    try {
      const { data, request_id } = await sdk.chat.completions.create(
        {
          model: options.model,
          messages: [
            { role: 'system', content: request.system },
            { role: 'user', content: request.user },
          ],
          // `max_tokens` rather than `max_completion_tokens`: every compatible endpoint
          // knows the older name, and gpt-4o-mini accepts both (reference §3).
          max_tokens: request.maxTokens,
          temperature: request.temperature ?? 0.4,
          response_format: responseFormat,
        },
        { timeout: request.timeoutMs, signal: AbortSignal.timeout(request.timeoutMs), maxRetries: 0 },
      ).withResponse();
      completion = data;
      requestId = request_id;
    } catch (err) {
      const error = toLlmError(err, request.timeoutMs);
      log.warn({ task: request.task, kind: error.kind, status: error.status, code: error.code, requestId: error.requestId, ms: Date.now() - started }, 'model call failed');
      throw error;
    }

    const choice = completion.choices[0];
    const fail = (kind: LlmError['kind'], message: string, cause?: unknown): never => {
      log.warn({ task: request.task, kind, requestId, finishReason: choice?.finish_reason }, 'model answer rejected');
      throw new LlmError(kind, message, { requestId, cause });
    };
    if (!choice) return fail('invalid_output', 'answer has no choices');
    if (choice.message.refusal) return fail('refusal', `model refused: ${choice.message.refusal.slice(0, 200)}`);
    if (choice.finish_reason === 'length') {
      return fail('truncated', `answer cut off at max_tokens=${request.maxTokens} (finish_reason=length)`);
    }
    if (choice.finish_reason === 'content_filter') return fail('refusal', 'answer blocked by the content filter');
    const content = choice.message.content;
    if (!content || !content.trim()) return fail('invalid_output', 'answer is empty');

    let json: unknown;
    try {
      json = JSON.parse(stripCodeFence(content));
    } catch (err) {
      return fail('invalid_json', 'invalid JSON in the answer', err);
    }
    const parsed = request.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail('invalid_output', `answer does not match the schema: ${issue ? `${issue.path.join('.') || 'root'} ${issue.message}` : 'unknown'}`);
    }
    const durationMs = Date.now() - started;
    log.debug({ task: request.task, requestId, ms: durationMs, usage: completion.usage?.total_tokens }, 'model answered');
    return { value: parsed.data, model: completion.model, requestId, durationMs };
  }

  async function checkModel(timeoutMs = 5000): Promise<ModelCheck> {
    let available: string[];
    try {
      const page = await sdk.models.list({ timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs), maxRetries: 0 });
      available = page.data.map((m) => m.id);
    } catch (err) {
      const error = toLlmError(err, timeoutMs);
      if (error.status === 404 || error.status === 405 || error.status === 501) {
        log.info({ status: error.status }, 'the model endpoint has no model list; OPENAI_MODEL not checked');
        return { state: 'no_model_list' };
      }
      const configError = error.kind === 'auth' || error.kind === 'forbidden' || error.kind === 'quota';
      if (configError) log.error({ kind: error.kind, status: error.status }, `OPENAI_MODEL could not be checked: ${error.message}`);
      else log.warn({ kind: error.kind, status: error.status }, `OPENAI_MODEL could not be checked: ${error.message}`);
      return { state: 'failed', kind: error.kind, message: error.message };
    }
    if (available.includes(options.model)) {
      log.info({ model: options.model }, 'model found in the endpoint’s model list');
      return { state: 'ok' };
    }
    const shown = available.slice(0, 12).join(', ') + (available.length > 12 ? ', …' : '');
    log.error(
      { model: options.model, available: available.length },
      `OPENAI_MODEL=${options.model} is not a model this endpoint serves (it serves: ${shown || 'none'}); every prompt phase falls back to the local rules until OPENAI_MODEL is fixed`,
    );
    return { state: 'unknown_model', available };
  }

  return { model: options.model, completeJson, checkModel };
}

/** Some compatible endpoints wrap JSON-mode answers in a Markdown code fence. */
function stripCodeFence(content: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(content);
  return fenced?.[1] ?? content;
}

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { FaultQueue, readBody, sendJson, sleep, type Emulator, type SandboxRequest } from '../core.ts';
import { SANDBOX_CREDENTIALS } from '../defaults.ts';
import { compilerAnswer, detectPhase, enhancerAnswer, routerAnswer, sampleFromSchema, section, type Phase } from './model.ts';

/**
 * An OpenAI-compatible chat endpoint under `/openai` (base URL `${sandbox}/openai/v1`),
 * as reference/openai-chat.md §4–§6 describe it for the `openai` SDK: Bearer check,
 * `application/json` answers shaped like real ones, `json_object` and strict
 * `json_schema` formats, refusals, and OpenAI's error bodies. Like the real API it answers
 * 404 `model_not_found` for a model it does not serve, 400 `invalid_request_error` with
 * `param` for out-of-range `temperature`, `top_p` or `n` and unknown message roles, `n`
 * choices, and a real SSE stream of `chat.completion.chunk`s for `stream: true`.
 * `GET /v1/models` and `/v1/models/{id}` list what it serves.
 *
 * Faults for the next N calls (optionally only for one phase) through
 * `POST /_sandbox/openai/faults {kind, phase?, count?, ms?}`.
 */

/** Models this endpoint serves, and the snapshot each name resolves to in answers. */
export const OPENAI_MODELS: Record<string, string> = {
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'gpt-4o-mini-2024-07-18': 'gpt-4o-mini-2024-07-18',
  'gpt-4o': 'gpt-4o-2024-08-06',
  'gpt-4o-2024-08-06': 'gpt-4o-2024-08-06',
  'gpt-4.1-mini': 'gpt-4.1-mini-2025-04-14',
  'gpt-4.1-mini-2025-04-14': 'gpt-4.1-mini-2025-04-14',
};

const MESSAGE_ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'] as const;

export const OPENAI_FAULT_KINDS = [
  'delay',
  'http_500',
  'http_503',
  'rate_limit',
  'insufficient_quota',
  'invalid_json',
  'truncated',
  'refusal',
  'invalid_commands',
  'no_commands',
  'unknown_template',
  'unfit_template',
  'wrong_language',
  'fenced_json',
] as const;
export type OpenAiFaultKind = (typeof OPENAI_FAULT_KINDS)[number];

const faultSchema = z.object({
  kind: z.enum(OPENAI_FAULT_KINDS),
  phase: z.enum(['enhancer_prompt', 'enhancer_template', 'enhancer', 'compiler', 'router', 'other']).optional(),
  count: z.number().int().min(1).max(1000).default(1),
  /** For `delay`: how long to wait before answering. */
  ms: z.number().int().min(0).max(120_000).default(30_000),
});
export type OpenAiFault = z.infer<typeof faultSchema>;

/** Content faults only make sense for the phase whose answer they spoil. */
const FAULT_PHASES: Partial<Record<OpenAiFaultKind, Phase[]>> = {
  invalid_commands: ['compiler'],
  no_commands: ['compiler'],
  unknown_template: ['router'],
  unfit_template: ['router'],
  wrong_language: ['enhancer_prompt', 'enhancer_template'],
};

export interface OpenAiCall {
  at: number;
  phase: Phase;
  model: string;
  maxTokens: number | null;
  responseFormat: string;
  schemaName: string | null;
  fault: OpenAiFaultKind | null;
  status: number;
}

const chatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({ role: z.string(), content: z.union([z.string(), z.array(z.unknown()), z.null()]).optional() }).loose()).min(1),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  n: z.number().int().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  response_format: z
    .object({
      type: z.enum(['text', 'json_object', 'json_schema']),
      json_schema: z.object({ name: z.string(), schema: z.unknown().optional(), strict: z.boolean().nullish() }).loose().optional(),
    })
    .optional(),
});
type ChatRequest = z.infer<typeof chatRequestSchema>;

/** The real API's range checks, in its words: `[param, message, code]`, or null when all is well. */
export function chatRequestProblem(body: ChatRequest): [string, string, string] | null {
  const range = (param: string, value: number | null | undefined, min: number, max: number, kind: 'decimal' | 'integer'): [string, string, string] | null => {
    if (value === null || value === undefined) return null;
    if (value > max) return [param, `Invalid '${param}': ${kind} above maximum value. Expected a value <= ${max}, but got ${value} instead.`, `${kind}_above_max_value`];
    if (value < min) return [param, `Invalid '${param}': ${kind} below minimum value. Expected a value >= ${min}, but got ${value} instead.`, `${kind}_below_min_value`];
    return null;
  };
  const problem = range('temperature', body.temperature, 0, 2, 'decimal') ?? range('top_p', body.top_p, 0, 1, 'decimal') ?? range('n', body.n, 1, 128, 'integer');
  if (problem) return problem;
  const index = body.messages.findIndex((m) => !(MESSAGE_ROLES as readonly string[]).includes(m.role));
  if (index >= 0) {
    const supported = MESSAGE_ROLES.map((r) => `'${r}'`);
    return [
      `messages[${index}].role`,
      `Invalid value: '${body.messages[index]!.role}'. Supported values are: ${supported.slice(0, -1).join(', ')}, and ${supported.at(-1)}.`,
      'invalid_value',
    ];
  }
  return null;
}

const modelObject = (id: string) => ({ id, object: 'model', created: 1721172741, owned_by: 'system' });

function errorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function modelNotFound(model: string) {
  return errorBody(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
}

interface StreamedCompletion {
  common: { id: string; created: number; model: string; service_tier: string; system_fingerprint: string };
  n: number;
  content: string | null;
  refusal: string | null;
  finishReason: 'stop' | 'length';
  /** Sent in one last chunk with empty `choices` when `stream_options.include_usage` asked for it. */
  usage: Record<string, unknown> | null;
}

/**
 * `stream: true` as the API streams it: server-sent events, one `chat.completion.chunk` per
 * piece (the role first, then the text in pieces, then the finish reason), `data: [DONE]` last.
 */
function streamCompletion(res: ServerResponse, headers: Record<string, string>, completion: StreamedCompletion): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', ...headers });
  const event = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ ...completion.common, object: 'chat.completion.chunk', choices, ...(completion.usage ? { usage: null } : {}), ...extra })}\n\n`);
  const text = completion.refusal ?? completion.content ?? '';
  const field = completion.refusal !== null ? 'refusal' : 'content';
  const pieces = text.match(/[\s\S]{1,24}/g) ?? [];
  for (let index = 0; index < completion.n; index += 1) {
    event([{ index, delta: { role: 'assistant', content: field === 'content' ? '' : null, refusal: null }, logprobs: null, finish_reason: null }]);
    for (const piece of pieces) event([{ index, delta: { [field]: piece }, logprobs: null, finish_reason: null }]);
    event([{ index, delta: {}, logprobs: null, finish_reason: completion.finishReason }]);
  }
  if (completion.usage) event([], { usage: completion.usage });
  res.end('data: [DONE]\n\n');
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p as { text?: string }).text ?? '').join('\n');
  return '';
}

/**
 * Structured Outputs' strict subset (reference §3): the root is an object, and every
 * object lists all its properties in `required` and sets `additionalProperties: false`.
 */
export function strictSchemaProblem(schema: unknown, where = '()'): string | null {
  if (!schema || typeof schema !== 'object') return `In context=${where}, schema must be a JSON Schema object.`;
  const s = schema as Record<string, unknown>;
  if (where === '()' && s.type !== 'object') return "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"" + String(s.type) + "\"'.";
  if (s.type === 'object' || s.properties) {
    if (s.additionalProperties !== false) return `In context=${where}, 'additionalProperties' is required to be supplied and to be false.`;
    const keys = Object.keys((s.properties ?? {}) as object);
    const required = Array.isArray(s.required) ? (s.required as string[]) : [];
    const missing = keys.find((k) => !required.includes(k));
    if (missing) return `In context=${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
  }
  const children: Array<[string, unknown]> = [
    ...Object.entries((s.properties ?? {}) as Record<string, unknown>).map(([k, v]) => [`${where}.properties.${k}`, v] as [string, unknown]),
    ...(s.items ? [[`${where}.items`, s.items] as [string, unknown]] : []),
    ...(((s.anyOf ?? []) as unknown[]).map((v, i) => [`${where}.anyOf.${i}`, v] as [string, unknown])),
    ...Object.entries((s.$defs ?? s.definitions ?? {}) as Record<string, unknown>).map(([k, v]) => [`${where}.$defs.${k}`, v] as [string, unknown]),
  ];
  for (const [path, child] of children) {
    const problem = child && typeof child === 'object' ? strictSchemaProblem(child, path) : null;
    if (problem) return problem;
  }
  return null;
}

/** OpenAI's rough rule: about 4 characters per token. */
const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export class OpenAiEmulator implements Emulator {
  readonly prefix = '/openai';
  readonly faults = new FaultQueue<OpenAiFault>();
  calls: OpenAiCall[] = [];
  /** How long every chat completion takes before answering, like a real model's latency (the benches set 1.5 s). */
  latencyMs: number;

  constructor(
    private readonly apiKeys: string[] = [SANDBOX_CREDENTIALS.openaiApiKey],
    options: { latencyMs?: number } = {},
  ) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  state() {
    return { calls: this.calls, pendingFaults: this.faults.pending() };
  }

  injectFault(body: unknown): void {
    const fault = faultSchema.parse(body);
    this.faults.add(fault, fault.count);
  }

  reset(): void {
    this.calls = [];
    this.faults.clear();
  }

  async handle({ req, res, path, method }: SandboxRequest): Promise<boolean> {
    const headers = { 'x-request-id': `req_${randomBytes(12).toString('hex')}`, 'openai-processing-ms': '42' };
    if (!path.startsWith('/v1/')) return false;
    const route = path.replace(/\/$/, '');
    const modelPath = /^\/v1\/models(?:\/(.+))?$/.exec(route);
    if (route !== '/v1/chat/completions' && !modelPath) {
      sendJson(res, 404, errorBody(`Invalid URL (${method} /v1${path.slice(3)})`, 'invalid_request_error', null), headers);
      return true;
    }
    if (method !== (modelPath ? 'GET' : 'POST')) {
      sendJson(res, 405, errorBody(`Invalid method for URL (${method} /v1${path.slice(3)})`, 'invalid_request_error', null), headers);
      return true;
    }

    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!key || !this.apiKeys.includes(key)) {
      await readBody(req).catch(() => undefined);
      const masked = key ? `${key.slice(0, 3)}****${key.slice(-4)}` : '';
      sendJson(
        res,
        401,
        key
          ? errorBody(`Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key')
          : errorBody("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 'invalid_request_error', null),
        headers,
      );
      return true;
    }

    if (modelPath) {
      const id = modelPath[1] ? decodeURIComponent(modelPath[1]) : null;
      if (id === null) sendJson(res, 200, { object: 'list', data: Object.keys(OPENAI_MODELS).map(modelObject) }, headers);
      else if (OPENAI_MODELS[id]) sendJson(res, 200, modelObject(id), headers);
      else sendJson(res, 404, modelNotFound(id), headers);
      return true;
    }

    let raw: unknown;
    try {
      raw = JSON.parse((await readBody(req)).toString('utf8'));
    } catch {
      sendJson(res, 400, errorBody('We could not parse the JSON body of your request.', 'invalid_request_error', null), headers);
      return true;
    }
    const parsed = chatRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      sendJson(res, 400, errorBody(`Invalid request: ${issue?.path.join('.')} ${issue?.message}`, 'invalid_request_error', null, issue?.path.join('.') ?? null), headers);
      return true;
    }
    const body = parsed.data;
    const system = body.messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => messageText(m.content)).join('\n');
    const user = body.messages.filter((m) => m.role === 'user').map((m) => messageText(m.content)).join('\n');
    const format = body.response_format ?? { type: 'text' as const };
    const schemaName = format.type === 'json_schema' ? (format.json_schema?.name ?? null) : null;
    const phase = detectPhase(system, schemaName);
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? null;

    const record = (status: number, fault: OpenAiFaultKind | null) =>
      this.calls.push({ at: Date.now(), phase, model: body.model, maxTokens, responseFormat: format.type, schemaName, fault, status });
    const refuse = (status: number, error: ReturnType<typeof errorBody>): true => {
      record(status, null);
      sendJson(res, status, error, headers);
      return true;
    };

    const problem = chatRequestProblem(body);
    if (problem) return refuse(400, errorBody(problem[1], 'invalid_request_error', problem[2], problem[0]));
    const resolvedModel = OPENAI_MODELS[body.model];
    if (!resolvedModel) return refuse(404, modelNotFound(body.model));
    if (format.type === 'json_object' && !/json/i.test(`${system}\n${user}`)) {
      return refuse(400, errorBody("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'invalid_request_error', null, 'messages'));
    }
    if (format.type === 'json_schema' && (!schemaName || !/^[a-zA-Z0-9_-]{1,64}$/.test(schemaName))) {
      return refuse(400, errorBody("Invalid 'response_format.json_schema.name': must match ^[a-zA-Z0-9_-]{1,64}$.", 'invalid_request_error', 'invalid_value', 'response_format.json_schema.name'));
    }
    const strictProblem = format.type === 'json_schema' && format.json_schema?.strict ? strictSchemaProblem(format.json_schema.schema) : null;
    if (strictProblem) {
      return refuse(400, errorBody(`Invalid schema for response_format '${schemaName}': ${strictProblem}`, 'invalid_request_error', 'invalid_json_schema', 'response_format'));
    }

    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const fault = this.faults.take((f) => {
      const forPhase = f.phase === undefined || f.phase === phase || (f.phase === 'enhancer' && phase.startsWith('enhancer'));
      const allowed = FAULT_PHASES[f.kind];
      return forPhase && (!allowed || allowed.includes(phase));
    });

    if (fault?.kind === 'delay') {
      await sleep(fault.ms);
      if (res.destroyed || req.destroyed) {
        record(499, 'delay');
        return true;
      }
    }
    const errorFault: Partial<Record<OpenAiFaultKind, [number, ReturnType<typeof errorBody>]>> = {
      http_500: [500, errorBody('The server had an error while processing your request. Sorry about that!', 'server_error', null)],
      http_503: [503, errorBody('The engine is currently overloaded, please try again later.', 'server_error', 'server_is_overloaded')],
      rate_limit: [
        429,
        errorBody(`Rate limit reached for ${body.model} in organization org-sandbox on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.`, 'requests', 'rate_limit_exceeded'),
      ],
      insufficient_quota: [
        429,
        errorBody('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota'),
      ],
    };
    const failure = fault ? errorFault[fault.kind] : undefined;
    if (failure) {
      record(failure[0], fault?.kind ?? null);
      sendJson(res, failure[0], failure[1], fault?.kind === 'rate_limit' ? { ...headers, 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20s' } : headers);
      return true;
    }

    const answer = this.answer(phase, user, format, fault?.kind ?? null);
    let content = answer.content;
    let finishReason: 'stop' | 'length' = answer.finishReason;
    if (content !== null && maxTokens !== null && tokens(content) > maxTokens) {
      content = content.slice(0, maxTokens * 4);
      finishReason = 'length';
    }
    record(200, fault?.kind ?? null);
    const n = body.n ?? 1;
    const promptTokens = tokens(`${system}\n${user}`);
    const completionTokens = (content ? tokens(content) : 0) * n;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    const common = {
      id: `chatcmpl-${randomBytes(15).toString('base64url')}`,
      created: Math.floor(Date.now() / 1000),
      model: resolvedModel,
      service_tier: 'default',
      system_fingerprint: 'fp_sandbox',
    };
    if (body.stream) {
      streamCompletion(res, headers, { common, n, content, refusal: answer.refusal, finishReason, usage: body.stream_options?.include_usage ? usage : null });
      return true;
    }
    sendJson(
      res,
      200,
      {
        ...common,
        object: 'chat.completion',
        choices: Array.from({ length: n }, (_, index) => ({
          index,
          message: { role: 'assistant', content, refusal: answer.refusal, annotations: [] },
          logprobs: null,
          finish_reason: finishReason,
        })),
        usage,
      },
      headers,
    );
    return true;
  }

  private answer(
    phase: Phase,
    user: string,
    format: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: { schema?: unknown } },
    fault: OpenAiFaultKind | null,
  ): { content: string | null; refusal: string | null; finishReason: 'stop' | 'length' } {
    if (fault === 'refusal') return { content: null, refusal: "I'm sorry, but I can't help with that request.", finishReason: 'stop' };

    let value: unknown;
    const original = section(user, 'Original request') || section(user, 'User request') || user;
    switch (phase) {
      case 'enhancer_prompt':
      case 'enhancer_template':
        value = { prompt_en: fault === 'wrong_language' ? original : enhancerAnswer(phase, original) };
        break;
      case 'compiler': {
        // Beem's compiler sends the user's words only; the answer describes the shot itself.
        const cinematic = section(user, 'Cinematic description') || enhancerAnswer('enhancer_prompt', original);
        const director =
          fault === 'invalid_commands'
            ? `[push  in, Orbit, zoom-in, Tilt down, Pan left] ${cinematic} [Fly through] [推进]`
            : fault === 'no_commands'
              ? `[Fly through] ${cinematic} [Dolly zoom, Orbit left]`
              : compilerAnswer(original, cinematic);
        value = { director_prompt: director };
        break;
      }
      case 'router': {
        const answer = routerAnswer(original, section(user, 'English description'));
        // unfit_template: a real template the request has no inputs for (a pet pilot for a product photo).
        value =
          fault === 'unknown_template'
            ? { ...answer, template_id: '999999999999999999' }
            : fault === 'unfit_template'
              ? { ...answer, template_id: '397017167949312007' }
              : answer;
        break;
      }
      default:
        value =
          format.type === 'json_schema'
            ? sampleFromSchema(format.json_schema?.schema)
            : format.type === 'json_object'
              ? { answer: 'sandbox answer' }
              : 'This is the Beem sandbox model.';
    }
    const content = typeof value === 'string' ? value : JSON.stringify(value);
    // What some compatible endpoints do in JSON mode: valid JSON inside a Markdown fence.
    if (fault === 'fenced_json') return { content: `\`\`\`json\n${content}\n\`\`\``, refusal: null, finishReason: 'stop' };
    if (fault === 'invalid_json') return { content: `Sure! Here is the JSON: ${content.slice(0, -1)}`, refusal: null, finishReason: 'stop' };
    if (fault === 'truncated') return { content: content.slice(0, Math.max(5, Math.floor(content.length / 2))), refusal: null, finishReason: 'length' };
    return { content, refusal: null, finishReason: 'stop' };
  }
}

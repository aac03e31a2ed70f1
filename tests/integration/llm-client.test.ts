import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { LengthFinishReasonError } from 'openai/error';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { OpenAiEmulator, OpenAiFault } from '../../sandbox/openai/index.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';
import { createLlmClient, type JsonMode } from '../../src/lib/providers/llm/client.ts';
import { isLlmError, type LlmErrorKind } from '../../src/lib/providers/llm/errors.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { capturedLog } from '../helpers/log.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { migrate, openDatabase } from '../../src/lib/db/index.ts';
import { createTelegramNotifier } from '../../src/lib/notify/telegram-notifier.ts';
import { createPromptEngine } from '../../src/lib/prompt/engine.ts';

let sandbox: Sandbox;
let emulator: OpenAiEmulator;
const log = createLogger('silent');

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = sandbox.emulator<OpenAiEmulator>('openai');
});
afterAll(() => sandbox.close());
beforeEach(() => emulator.reset());

const baseURL = () => `${sandbox.url}/openai/v1`;
const client = (jsonMode: JsonMode = 'json_schema', apiKey: string = SANDBOX_CREDENTIALS.openaiApiKey) =>
  createLlmClient({ baseUrl: baseURL(), apiKey, model: 'gpt-4o-mini', jsonMode, log });

const answerSchema = z.object({ prompt_en: z.string() });
const request = (timeoutMs = 2000) => ({
  task: 'beem_prompt_enhancer_prompt',
  schema: answerSchema,
  system: "You are Beem's smart prompt enhancer (phase 1, prompt mode). Reply with a JSON object only.",
  user: 'User request:\nБутылка духов на мраморном столе',
  maxTokens: 500,
  timeoutMs,
});

async function failureOf(promise: Promise<unknown>): Promise<{ kind: LlmErrorKind; message: string; status: number | null }> {
  try {
    await promise;
  } catch (err) {
    if (isLlmError(err)) return { kind: err.kind, message: err.message, status: err.status };
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('LLM client against the OpenAI-compatible emulator', () => {
  it.each<JsonMode>(['json_schema', 'json_object'])('returns validated JSON in %s mode', async (mode) => {
    const result = await client(mode).completeJson(request());
    expect(result.value.prompt_en).toMatch(/perfume/i);
    expect(result.value.prompt_en).not.toMatch(/\p{Script=Cyrillic}/u);
    expect(result.requestId).toMatch(/^req_/);
    expect(emulator.calls[0]).toMatchObject({ phase: 'enhancer_prompt', maxTokens: 500, responseFormat: mode, model: 'gpt-4o-mini' });
    if (mode === 'json_schema') expect(emulator.calls[0]?.schemaName).toBe('beem_prompt_enhancer_prompt');
  });

  const faults: Array<[string, Partial<OpenAiFault>, LlmErrorKind, RegExp]> = [
    ['HTTP 500', { kind: 'http_500' }, 'server', /API error \(HTTP 500\)/],
    ['HTTP 503', { kind: 'http_503' }, 'server', /HTTP 503/],
    ['429 rate limit', { kind: 'rate_limit' }, 'rate_limit', /rate limit exceeded \(HTTP 429 rate_limit_exceeded\)/],
    ['429 quota', { kind: 'insufficient_quota' }, 'quota', /quota exceeded/],
    ['invalid JSON content', { kind: 'invalid_json' }, 'invalid_json', /invalid JSON/],
    ['truncated JSON', { kind: 'truncated' }, 'truncated', /finish_reason=length/],
    ['a refusal', { kind: 'refusal' }, 'refusal', /model refused/],
  ];
  it.each(faults)('maps %s to a typed error', async (_name, fault, kind, message) => {
    await fetch(`${sandbox.url}/_sandbox/openai/faults`, { method: 'POST', body: JSON.stringify(fault) });
    const failure = await failureOf(client().completeJson(request()));
    expect(failure.kind).toBe(kind);
    expect(failure.message).toMatch(message);
    // maxRetries is 0: one call per request, the engine falls back instead of retrying.
    expect(emulator.calls).toHaveLength(1);
  });

  it('reads JSON wrapped in a Markdown code fence', async () => {
    emulator.injectFault({ kind: 'fenced_json' });
    const result = await client('json_object').completeJson(request());
    expect(result.value.prompt_en).toMatch(/perfume/i);
  });

  it('gives up at its own timeout when the model is slow', async () => {
    emulator.injectFault({ kind: 'delay', ms: 20_000 });
    const started = Date.now();
    const failure = await failureOf(client().completeJson(request(300)));
    expect(failure).toMatchObject({ kind: 'timeout', message: 'timeout (no answer within 300 ms)' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports a wrong key as an auth error', async () => {
    const failure = await failureOf(client('json_schema', 'sk-wrong').completeJson(request()));
    expect(failure).toMatchObject({ kind: 'auth', status: 401 });
  });

  it('reports an answer that does not fit the schema', async () => {
    const failure = await failureOf(
      client().completeJson({ ...request(), schema: z.object({ prompt_en: z.string(), extra: z.number() }) }),
    );
    expect(failure.kind).toBe('invalid_output');
  });

  it('reports an unreachable endpoint as a connection error', async () => {
    const dead = createLlmClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'x', model: 'm', jsonMode: 'json_schema', log });
    expect((await failureOf(dead.completeJson(request()))).kind).toBe('connection');
  });
});

describe('the real openai SDK against the emulator', () => {
  const sdk = () => new OpenAI({ apiKey: SANDBOX_CREDENTIALS.openaiApiKey, baseURL: baseURL(), maxRetries: 0 });

  it('chat.completions.create returns the documented shape', async () => {
    const completion = await sdk().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini-2024-07-18');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', refusal: null });
    expect(typeof completion.choices[0]?.message.content).toBe('string');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('chat.completions.parse fills `parsed` for a zod schema', async () => {
    const Plan = z.object({ title: z.string(), shots: z.array(z.string()), note: z.string().nullable(), count: z.number() });
    const completion = await sdk().chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Plan a shoot' }],
      response_format: zodResponseFormat(Plan, 'shoot_plan'),
    });
    expect(Plan.parse(completion.choices[0]?.message.parsed)).toBeTruthy();
  });

  it('chat.completions.parse gets the camera compiler answer for Beem’s phase', async () => {
    const completion = await sdk().chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: "You are Beem's camera prompt compiler (phase 2)." },
        { role: 'user', content: 'Original request:\nКамера приближается, потом панорама влево\n\nCinematic description:\nA perfume bottle. Light on glass.' },
      ],
      response_format: zodResponseFormat(z.object({ director_prompt: z.string() }), 'beem_camera_compiler'),
    });
    expect(completion.choices[0]?.message.parsed?.director_prompt).toBe('[Push in] A perfume bottle. [Pan left] Light on glass.');
  });

  it('parse throws LengthFinishReasonError on truncated output and sets refusal on a refusal', async () => {
    emulator.injectFault({ kind: 'truncated' });
    const format = zodResponseFormat(z.object({ a: z.string() }), 'x');
    await expect(sdk().chat.completions.parse({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], response_format: format })).rejects.toBeInstanceOf(
      LengthFinishReasonError,
    );
    emulator.injectFault({ kind: 'refusal' });
    const refused = await sdk().chat.completions.parse({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], response_format: format });
    expect(refused.choices[0]?.message.refusal).toMatch(/can't help/);
    expect(refused.choices[0]?.message.parsed).toBeNull();
  });

  it('throws the SDK error classes with OpenAI’s codes', async () => {
    emulator.injectFault({ kind: 'insufficient_quota' });
    const error = await sdk()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota');
    const unauthorized = await new OpenAI({ apiKey: 'sk-nope', baseURL: baseURL(), maxRetries: 0 })
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('refuses json_object requests that never mention JSON, as OpenAI does', async () => {
    const error = await sdk()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe('OPENAI_MODEL check at start', () => {
  const withModel = (model: string, logger = log, baseUrl = baseURL()) =>
    createLlmClient({ baseUrl, apiKey: SANDBOX_CREDENTIALS.openaiApiKey, model, jsonMode: 'json_schema', log: logger });

  it('finds a served model in the model list', async () => {
    expect(await withModel('gpt-4o-mini').checkModel()).toEqual({ state: 'ok' });
  });

  it('reports a wrong OPENAI_MODEL clearly, and the prompt phases still fall back to the local rules', async () => {
    const { lines, log: logger } = capturedLog();
    const llm = withModel('gpt-5-imaginary', logger);
    const check = await llm.checkModel();
    expect(check).toMatchObject({ state: 'unknown_model', available: expect.arrayContaining(['gpt-4o-mini']) });
    const error = lines.find((l) => l.level === 'error');
    expect(error?.msg).toMatch(/^OPENAI_MODEL=gpt-5-imaginary is not a model this endpoint serves \(it serves: .*gpt-4o-mini.*\); every prompt phase falls back/);

    const notifier = createTelegramNotifier({ db: memoryDb(), log, clock: new ManualClock(), telegram: null });
    const engine = createPromptEngine({ llm, notifier, log, timeouts: { enhancerMs: 5000, compilerMs: 5000, routerMs: 5000 } });
    const result = await engine.prepare({ mode: 'prompt', prompt: 'Флакон духов на мраморном столе', duration: 6, userId: 'u1', generationId: 'g1' });
    expect(result.fallbacks.length).toBeGreaterThan(0);
    expect(result.finalPrompt).toMatch(/^\[Push in\]/);
    expect(emulator.calls.every((c) => c.status === 404)).toBe(true);
  });

  it('skips the check when the endpoint has no model list', async () => {
    const { lines, log: logger } = capturedLog();
    expect(await withModel('any-model', logger, `${sandbox.url}/no-such-endpoint/v1`).checkModel()).toEqual({ state: 'no_model_list' });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('says so when the key is refused', async () => {
    const llm = createLlmClient({ baseUrl: baseURL(), apiKey: 'sk-wrong', model: 'gpt-4o-mini', jsonMode: 'json_schema', log });
    expect(await llm.checkModel()).toMatchObject({ state: 'failed', kind: 'auth' });
  });
});

function memoryDb() {
  const db = openDatabase(':memory:');
  migrate(db);
  return db;
}

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index.ts';
import { SANDBOX_CREDENTIALS } from '../defaults.ts';
import { strictSchemaProblem, type OpenAiEmulator } from './index.ts';
import { sampleFromSchema, toEnglish } from './model.ts';

let sandbox: Sandbox;
let openai: OpenAiEmulator;
beforeAll(async () => {
  sandbox = await startSandbox();
  openai = sandbox.emulator<OpenAiEmulator>('openai');
});
afterAll(() => sandbox.close());
beforeEach(() => openai.reset());

const chat = (body: unknown, key: string = SANDBOX_CREDENTIALS.openaiApiKey, path = '/openai/v1/chat/completions') =>
  fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: (await r.json()) as Record<string, any> }));

const enhancer = (text: string, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: "You are Beem's smart prompt enhancer (phase 1, prompt mode). Reply with JSON." },
    { role: 'user', content: `User request:\n${text}` },
  ],
  response_format: { type: 'json_object' },
  ...extra,
});

describe('OpenAI-compatible emulator', () => {
  it('answers in the documented shape with JSON content', async () => {
    const res = await chat(enhancer('Красная помада на мраморе'));
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.body).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', refusal: null } }] });
    const content = JSON.parse(res.body.choices[0].message.content);
    expect(content.prompt_en).toMatch(/red lipstick on marble/i);
  });

  it('refuses a wrong key with OpenAI’s 401 body', async () => {
    const res = await chat(enhancer('x'), 'sk-wrong-key-1234');
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key', param: null });
    expect(res.body.error.message).toContain('sk-****1234');
  });

  it('answers 404 with an error body for unknown paths', async () => {
    const res = await chat({}, undefined, '/openai/v1/embeddingz');
    expect(res.status).toBe(404);
    expect(res.body.error.type).toBe('invalid_request_error');
  });

  it('cuts the answer at max_tokens with finish_reason length', async () => {
    const res = await chat(enhancer('Флакон духов на мраморном столе', { max_tokens: 5 }));
    expect(res.body.choices[0].finish_reason).toBe('length');
    expect(() => JSON.parse(res.body.choices[0].message.content)).toThrow();
    expect(openai.calls[0]).toMatchObject({ maxTokens: 5, phase: 'enhancer_prompt', responseFormat: 'json_object' });
  });

  it('checks the json_schema name', async () => {
    const res = await chat({ ...enhancer('x'), response_format: { type: 'json_schema', json_schema: { name: 'bad name!', schema: {} } } });
    expect(res.status).toBe(400);
  });

  it('refuses a strict schema outside the Structured Outputs subset', async () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a'], additionalProperties: false };
    const res = await chat({ ...enhancer('x'), response_format: { type: 'json_schema', json_schema: { name: 'loose', strict: true, schema } } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/Missing 'b'/);
    expect(strictSchemaProblem({ type: 'object', properties: { o: { type: 'object', properties: {} } }, required: ['o'], additionalProperties: false })).toMatch(
      /context=\(\)\.properties\.o, 'additionalProperties'/,
    );
  });

  it('applies a phase-bound fault only to that phase', async () => {
    openai.injectFault({ kind: 'http_500', phase: 'router' });
    expect((await chat(enhancer('x'))).status).toBe(200);
    expect(openai.faults.pending()).toHaveLength(1);
  });

  it('makes a value for any JSON schema', () => {
    expect(
      sampleFromSchema({
        type: 'object',
        properties: { a: { type: 'string' }, b: { type: ['number', 'null'] }, c: { enum: ['x', 'y'] }, d: { type: 'array', items: { type: 'string' } }, e: { $ref: '#/$defs/E' } },
        $defs: { E: { type: 'object', properties: { f: { type: 'boolean' } } } },
      }),
    ).toEqual({ a: 'sandbox', b: 0, c: 'x', d: [], e: { f: false } });
  });

  it('drops words it cannot translate rather than answering in Russian', () => {
    expect(toEnglish('Флакон духов загадочновидный')).toBe('flacon perfume');
    expect(toEnglish('ъъъ')).toBe('the product');
  });
});

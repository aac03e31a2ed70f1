import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../sandbox/index.ts';
import { SANDBOX_CREDENTIALS } from '../../../sandbox/defaults.ts';
import { strictSchemaProblem, type OpenAiEmulator } from '../../../sandbox/openai/index.ts';
import { sampleFromSchema, toEnglish } from '../../../sandbox/openai/model.ts';

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
    expect(content.prompt_en).toMatch(/a red lipstick on a marble table/i);
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

  it('answers 404 model_not_found for a model it does not serve, and lists the ones it does', async () => {
    const res = await chat(enhancer('x', { model: 'gpt-5-imaginary' }));
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { message: 'The model `gpt-5-imaginary` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found' },
    });
    const auth = { headers: { Authorization: `Bearer ${SANDBOX_CREDENTIALS.openaiApiKey}` } };
    const list = (await (await fetch(`${sandbox.url}/openai/v1/models`, auth)).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id)).toContain('gpt-4o-mini');
    expect((await fetch(`${sandbox.url}/openai/v1/models/gpt-4o-mini`, auth)).status).toBe(200);
    expect((await fetch(`${sandbox.url}/openai/v1/models/gpt-5-imaginary`, auth)).status).toBe(404);
    expect((await fetch(`${sandbox.url}/openai/v1/models`)).status).toBe(401);
  });

  it.each([
    ['temperature 5', { temperature: 5 }, 'temperature', 'decimal_above_max_value', "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 5 instead."],
    ['temperature -1', { temperature: -1 }, 'temperature', 'decimal_below_min_value', "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 instead."],
    ['n 0', { n: 0 }, 'n', 'integer_below_min_value', "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."],
    ['n 129', { n: 129 }, 'n', 'integer_above_max_value', "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 129 instead."],
    [
      'role wizard',
      { messages: [{ role: 'wizard', content: 'json please' }] },
      'messages[0].role',
      'invalid_value',
      "Invalid value: 'wizard'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
    ],
  ])('answers 400 invalid_request_error with param for %s', async (_name, extra, param, code, message) => {
    const res = await chat(enhancer('x', extra));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { message, type: 'invalid_request_error', param, code } });
  });

  it('answers n choices for n: 2, as the real API does', async () => {
    const res = await chat(enhancer('Часы на запястье', { n: 2 }));
    expect(res.status).toBe(200);
    expect(res.body.choices.map((c: { index: number }) => c.index)).toEqual([0, 1]);
  });

  it('streams server-sent chunks for stream: true, with usage when asked, and [DONE] last', async () => {
    const res = await fetch(`${sandbox.url}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${SANDBOX_CREDENTIALS.openaiApiKey}` },
      body: JSON.stringify(enhancer('Красная помада на мраморе', { stream: true, stream_options: { include_usage: true } })),
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')) as Record<string, any>);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks[0]!.choices[0].delta).toMatchObject({ role: 'assistant', content: '' });
    expect(chunks.at(-2)!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
    const text = chunks.flatMap((c) => c.choices.map((ch: { delta: { content?: string } }) => ch.delta.content ?? '')).join('');
    expect(JSON.parse(text).prompt_en).toMatch(/a red lipstick on a marble table/i);
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
    expect(toEnglish('Флакон духов загадочновидный')).toBe('a perfume bottle');
    expect(toEnglish('ъъъ')).toBe('the product');
  });
});

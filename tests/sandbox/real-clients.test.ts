import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Bot, GrammyError } from 'grammy';
import OpenAI from 'openai';
import * as oidc from 'openid-client';
import { YooCheckout } from '@a2seven/yoo-checkout';
import { MiniMaxAPI } from 'minimax-mcp-js/build/utils/api.js';
import { VideoAPI } from 'minimax-mcp-js/build/api/video.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';
import { withTestTimings, type MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { imageDataUrl } from '../../sandbox/minimax/test-support.ts';
import { authorizeSignedIn, providerSession } from '../../sandbox/oidc/test-support.ts';
import { subjectForEmail } from '../../sandbox/oidc/emulator.ts';
import type { YookassaEmulator } from '../../sandbox/yookassa/index.ts';

/**
 * The sandbox driven by independent, widely used clients with only their base URL changed:
 * the official `openai` SDK, `openid-client`, the community YooKassa SDK (its host is
 * hard-coded: pointed here through its `root` property), grammY, and the API client of
 * MiniMax's official MCP package. Where the sandbox is kinder than the real service, a
 * misconfiguration passes every other test; these keep the emulators honest as they change.
 */

let sandbox: Sandbox;
const APP = 'http://127.0.0.1:3999';
const RPM = 3;
beforeAll(async () => {
  // A small MiniMax rate limit, to see the real client meet it.
  sandbox = await startSandbox({ appUrl: APP, minimax: withTestTimings({ rpmLimit: RPM, render: { ffmpeg: null } }) });
});
afterAll(() => sandbox.close());

describe('openai SDK', () => {
  const client = () => new OpenAI({ apiKey: SANDBOX_CREDENTIALS.openaiApiKey, baseURL: `${sandbox.url}/openai/v1`, maxRetries: 0 });
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: 'system', content: "You are Beem's smart prompt enhancer (phase 1, prompt mode). Reply with JSON." },
    { role: 'user', content: 'User request:\nФлакон духов на мраморе' },
  ];

  it('lists models and completes a chat', async () => {
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
    const completion = await client().chat.completions.create({ model: 'gpt-4o-mini', messages, response_format: { type: 'json_object' } });
    expect(completion.model).toBe('gpt-4o-mini-2024-07-18');
    expect(JSON.parse(completion.choices[0]!.message.content!).prompt_en).toMatch(/perfume/i);
  });

  it('throws NotFoundError model_not_found for an unknown model', async () => {
    const err = await client().chat.completions.create({ model: 'gpt-5-imaginary', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'model_not_found', type: 'invalid_request_error' });
  });

  it.each([
    ['temperature', { temperature: 5 }],
    ['n', { n: 0 }],
    ['messages[0].role', { messages: [{ role: 'wizard', content: 'json' }] as unknown as OpenAI.Chat.ChatCompletionMessageParam[] }],
  ])('throws BadRequestError with param %s', async (param, extra) => {
    const err = await client().chat.completions.create({ model: 'gpt-4o-mini', messages, ...extra }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, param, type: 'invalid_request_error' });
  });

  it('streams with stream: true', async () => {
    const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', messages, response_format: { type: 'json_object' }, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(finish).toBe('stop');
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect(JSON.parse(text).prompt_en).toMatch(/perfume/i);
  });
});

describe('openid-client', () => {
  const REDIRECT_URI = `${APP}/auth/callback`;
  const discover = () =>
    oidc.discovery(new URL(`${sandbox.url}/oidc`), SANDBOX_CREDENTIALS.oauthClientId, SANDBOX_CREDENTIALS.oauthClientSecret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });

  it('signs in with PKCE and nonce through the registered redirect URI', async () => {
    const config = await discover();
    const flow = await authorizeSignedIn(sandbox.url, config, { redirectUri: REDIRECT_URI, email: 'client@example.ru' });
    const tokens = await oidc.authorizationCodeGrant(config, flow.callback!, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    expect(tokens.claims()).toMatchObject({ sub: subjectForEmail('client@example.ru'), email: 'client@example.ru', email_verified: true });
    expect((await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).email).toBe('client@example.ru');
  });

  it('gets the provider’s error page, not a redirect, for an unregistered redirect URI', async () => {
    const config = await discover();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: 'https://evil.example/auth/callback', scope: 'openid', state: 's' });
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: await providerSession(sandbox.url, 'victim@example.ru') } });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('redirect_uri_mismatch');
  });

  it('surfaces login_required for prompt=none without a provider session', async () => {
    const config = await discover();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 'quiet', prompt: 'none' });
    const res = await fetch(url, { redirect: 'manual' });
    const err = await oidc.authorizationCodeGrant(config, new URL(res.headers.get('location')!), { expectedState: 'quiet' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(oidc.AuthorizationResponseError);
    expect(err).toMatchObject({ error: 'login_required' });
  });
});

describe('@a2seven/yoo-checkout', () => {
  const checkout = () => {
    const sdk = new YooCheckout({ shopId: SANDBOX_CREDENTIALS.yookassaShopId, secretKey: SANDBOX_CREDENTIALS.yookassaSecretKey });
    // The SDK hard-codes api.yookassa.ru; `root` is where it sends every call.
    (sdk as unknown as { root: string }).root = `${sandbox.url}/yookassa/v3`;
    return sdk;
  };
  const payload = {
    amount: { value: '1490.00', currency: 'RUB' },
    capture: true,
    confirmation: { type: 'redirect' as const, return_url: `${APP}/billing?payment=p1` },
    description: 'Пакет Basic: 50 кредитов',
    metadata: { paymentId: 'p1' },
  };

  it('creates, replays the original answer for the same key, and reads the payment as it is now', async () => {
    const key = randomUUID();
    const created = await checkout().createPayment(payload, key);
    expect(created).toMatchObject({ status: 'pending', paid: false, amount: { value: '1490.00', currency: 'RUB' } });
    await sandbox.emulator<YookassaEmulator>('yookassa').act({ action: 'pay', paymentId: created.id });
    const replay = await checkout().createPayment(payload, key);
    expect(replay).toMatchObject({ id: created.id, status: 'pending', paid: false });
    expect(await checkout().getPayment(created.id)).toMatchObject({ id: created.id, status: 'succeeded', paid: true });
  });

  it('gets YooKassa’s error body for a key reused with another body and for wrong credentials', async () => {
    const key = randomUUID();
    await checkout().createPayment(payload, key);
    const reused = await checkout().createPayment({ ...payload, description: 'другое' }, key).catch((e: unknown) => e);
    expect(reused).toMatchObject({ response: { status: 400, data: { code: 'invalid_request', parameter: 'Idempotence-Key' } } });
    const wrong = new YooCheckout({ shopId: SANDBOX_CREDENTIALS.yookassaShopId, secretKey: 'test_wrong' });
    (wrong as unknown as { root: string }).root = `${sandbox.url}/yookassa/v3`;
    expect(await wrong.getPayment('x').catch((e: unknown) => e)).toMatchObject({ response: { status: 401, data: { code: 'invalid_credentials' } } });
  });
});

describe('grammY', () => {
  const bot = () => new Bot(SANDBOX_CREDENTIALS.telegramBotToken, { client: { apiRoot: `${sandbox.url}/telegram` } });

  it('sends to the operator chat and gets the message with its entities back', async () => {
    expect((await bot().api.getMe()).username).toBe('beem_alert_bot');
    const chat = await bot().api.getChat(SANDBOX_CREDENTIALS.telegramChatId);
    expect(chat).toMatchObject({ id: Number(SANDBOX_CREDENTIALS.telegramChatId), type: 'private' });
    const message = await bot().api.sendMessage(SANDBOX_CREDENTIALS.telegramChatId, '<b>Stage</b>: TEST_ALERT', { parse_mode: 'HTML' });
    expect(message).toMatchObject({ text: 'Stage: TEST_ALERT', entities: [{ type: 'bold', offset: 0, length: 5 }] });
  });

  it.each([0, 'not-a-chat', '@no_such_channel', -100123])('gets GrammyError 400 chat not found for chat_id %s', async (chatId) => {
    const err = await bot().api.sendMessage(chatId, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect(err).toMatchObject({ error_code: 400, description: 'Bad Request: chat not found' });
  });
});

describe('MiniMax MCP package’s API client', () => {
  const api = () => new MiniMaxAPI({ apiKey: SANDBOX_CREDENTIALS.minimaxApiKey, apiHost: `${sandbox.url}/minimax`, resourceMode: 'url' });

  it('creates a task, polls it to success and downloads the video over https', async () => {
    const photo = await imageDataUrl(640, 480);
    const { task_id: taskId } = await new VideoAPI(api()).generateVideo({ prompt: 'A perfume bottle [Push in]', firstFrameImage: photo, duration: 6, resolution: '768P', asyncMode: true });
    expect(taskId).toMatch(/^\d+$/);
    await sandbox.emulator<MinimaxEmulator>('minimax').waitForTask(taskId);
    const done = await new VideoAPI(api()).queryVideoGeneration({ taskId });
    expect(done.status).toBe('Success');
    expect(done.video_url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/minimax\/files\//);
    // The client's own download (axios, trusting the test CA through NODE_EXTRA_CA_CERTS).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-mcp-client-'));
    try {
      await api().downloadFile(done.video_url!, path.join(dir, 'video.mp4'));
      expect(fs.readFileSync(path.join(dir, 'video.mp4')).subarray(4, 8).toString('latin1')).toBe('ftyp');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('meets the rate limit: the client reports MiniMax’s 1002 once the window is used up', async () => {
    const minimax = sandbox.emulator<MinimaxEmulator>('minimax');
    minimax.reset();
    const video = new VideoAPI(api());
    const photo = await imageDataUrl(640, 480);
    for (let i = 0; i < RPM; i += 1) await video.generateVideo({ prompt: `Frame ${i}`, firstFrameImage: photo, asyncMode: true });
    const err = await video.generateVideo({ prompt: 'One too many', firstFrameImage: photo, asyncMode: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'MinimaxRequestError', message: expect.stringContaining('rate limit') });
    expect(minimax.tasks()).toHaveLength(RPM);
  });
});

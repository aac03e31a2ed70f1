import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config.ts';
import { DEFAULT_SANDBOX_PORT, SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';
import { sandboxOptionsFromEnv } from '../../sandbox/env.ts';
import { DEFAULT_MINIMAX_OPTIONS, TEST_MINIMAX_OPTIONS } from '../../sandbox/minimax/emulator.ts';

describe('sandbox credentials', () => {
  it('equal the development defaults of the configuration, so the demo needs no keys', () => {
    const { config, secrets } = loadConfig({});
    expect(SANDBOX_CREDENTIALS).toEqual({
      oauthClientId: config.auth.clientId,
      oauthClientSecret: secrets.oauthClientSecret,
      openaiApiKey: secrets.openaiApiKey,
      minimaxApiKey: secrets.minimaxApiKey,
      yookassaShopId: config.yookassa.shopId,
      yookassaSecretKey: secrets.yookassaSecretKey,
      telegramBotToken: secrets.telegramBotToken,
      telegramChatId: config.telegram.chatId,
    });
  });

  it('listen where the configuration looks for the sandbox by default', () => {
    const { config } = loadConfig({});
    expect(new URL(config.minimax.apiBase).port).toBe(String(DEFAULT_SANDBOX_PORT));
  });
});

describe('MiniMax rate limit of the sandbox', () => {
  it('is on by default at a paid key’s 20 per minute (npm run sandbox, npm run demo), off in the test timings', () => {
    expect(DEFAULT_MINIMAX_OPTIONS).toMatchObject({ rpmLimit: 20, rpmWindowMs: 60_000 });
    expect(sandboxOptionsFromEnv({}).minimax?.rpmLimit).toBeUndefined();
    expect(TEST_MINIMAX_OPTIONS.rpmLimit).toBeNull();
  });

  it('takes its figure and window from the environment', () => {
    expect(sandboxOptionsFromEnv({ SANDBOX_MINIMAX_RPM: '5', SANDBOX_MINIMAX_RPM_WINDOW_MS: '10000' }).minimax).toMatchObject({ rpmLimit: 5, rpmWindowMs: 10_000 });
    expect(sandboxOptionsFromEnv({ SANDBOX_MINIMAX_RPM: 'off' }).minimax).toMatchObject({ rpmLimit: null });
    expect(() => sandboxOptionsFromEnv({ SANDBOX_MINIMAX_RPM: '0' })).toThrow(/SANDBOX_MINIMAX_RPM/);
    expect(() => sandboxOptionsFromEnv({ SANDBOX_MINIMAX_RPM_WINDOW_MS: 'soon' })).toThrow(/SANDBOX_MINIMAX_RPM_WINDOW_MS/);
  });
});

describe('model latency of the sandbox', () => {
  it('answers at once by default and takes a latency per call from the environment', () => {
    expect(sandboxOptionsFromEnv({}).openai).toBeUndefined();
    expect(sandboxOptionsFromEnv({ SANDBOX_OPENAI_LATENCY_MS: '1500' }).openai).toEqual({ latencyMs: 1500 });
    expect(() => sandboxOptionsFromEnv({ SANDBOX_OPENAI_LATENCY_MS: '1.5s' })).toThrow(/SANDBOX_OPENAI_LATENCY_MS/);
  });
});

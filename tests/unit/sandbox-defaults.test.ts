import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config.ts';
import { DEFAULT_SANDBOX_PORT, SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';

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

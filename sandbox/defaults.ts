/**
 * Credentials the sandbox accepts by default. They equal the development defaults of
 * src/lib/config.ts (a test checks it), so `npm run demo` needs no keys at all.
 */
export const SANDBOX_CREDENTIALS = {
  oauthClientId: 'beem-sandbox',
  oauthClientSecret: 'sandbox-oauth-secret',
  openaiApiKey: 'sk-sandbox',
  minimaxApiKey: 'sandbox-minimax-key',
  yookassaShopId: '100500',
  yookassaSecretKey: 'test_sandbox_secret',
  telegramBotToken: '100500:sandbox-bot-token',
  telegramChatId: '432400514',
} as const;

export const DEFAULT_SANDBOX_PORT = 4010;
export const DEFAULT_APP_URL = 'http://localhost:3000';

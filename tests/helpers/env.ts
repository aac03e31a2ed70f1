/** Everything production requires, with test values (add OAUTH_ISSUER and what the test needs). */
export const PRODUCTION_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  SESSION_SECRET: 'p'.repeat(48),
  OAUTH_PROVIDER: 'oidc',
  OAUTH_CLIENT_ID: 'beem-sandbox',
  OAUTH_CLIENT_SECRET: 'sandbox-oauth-secret',
  OPENAI_API_KEY: 'sk-test',
  MINIMAX_API_KEY: 'mm-test',
  YOOKASSA_SHOP_ID: '1',
  YOOKASSA_API_KEY: 'test',
};

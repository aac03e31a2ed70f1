import { DEFAULT_APP_URL, DEFAULT_SANDBOX_PORT } from './defaults.ts';
import type { SandboxOptions } from './index.ts';

/**
 * Settings of `npm run sandbox` and `npm run demo` (not of Beem itself):
 *   SANDBOX_PORT            port of the emulators (default 4010)
 *   SANDBOX_HOST            address to listen on (default 127.0.0.1)
 *   BEEM_URL                where the emulators reach Beem back (webhooks; default http://localhost:3000)
 *   SANDBOX_MINIMAX_STEP_MS seconds a fake video spends per state, as "preparing,queueing,processing"
 *                           in milliseconds (default 1000,1000,4000)
 *   SANDBOX_MINIMAX_RPM     video tasks MiniMax accepts per key and window before answering 1002
 *                           (default 20, a paid key's limit; "off" for none)
 *   SANDBOX_MINIMAX_RPM_WINDOW_MS  that window in milliseconds (default 60000, as the real API)
 *   SANDBOX_OPENAI_LATENCY_MS     milliseconds the chat model takes per answer (default 0)
 *   SANDBOX_OIDC_REDIRECT_URIS     sign-in return addresses the provider accepts besides
 *                           `${BEEM_URL}/auth/callback`, comma-separated (exact match, as real providers)
 */
export function sandboxOptionsFromEnv(env: Record<string, string | undefined>): SandboxOptions {
  const port = Number(env.SANDBOX_PORT ?? DEFAULT_SANDBOX_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`SANDBOX_PORT: not a port: ${env.SANDBOX_PORT}`);
  const options: SandboxOptions = { port, host: env.SANDBOX_HOST || '127.0.0.1', appUrl: env.BEEM_URL || DEFAULT_APP_URL };
  if (env.SANDBOX_MINIMAX_STEP_MS) {
    const steps = env.SANDBOX_MINIMAX_STEP_MS.split(',').map((s) => Number(s.trim()));
    if (steps.length !== 3 || steps.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new Error('SANDBOX_MINIMAX_STEP_MS: expected three whole numbers of milliseconds, like 1000,1000,4000');
    }
    const [preparing, queueing, processing] = steps as [number, number, number];
    options.minimax = { stepMs: { preparing, queueing, processing } };
  }
  const rpm = env.SANDBOX_MINIMAX_RPM?.trim();
  if (rpm) {
    const limit = rpm.toLowerCase() === 'off' ? null : Number(rpm);
    if (limit !== null && (!Number.isInteger(limit) || limit < 1)) throw new Error('SANDBOX_MINIMAX_RPM: expected a whole number of tasks, like 20, or "off"');
    options.minimax = { ...options.minimax, rpmLimit: limit };
  }
  if (env.SANDBOX_MINIMAX_RPM_WINDOW_MS) {
    const windowMs = Number(env.SANDBOX_MINIMAX_RPM_WINDOW_MS);
    if (!Number.isInteger(windowMs) || windowMs < 1) throw new Error('SANDBOX_MINIMAX_RPM_WINDOW_MS: expected milliseconds, like 60000');
    options.minimax = { ...options.minimax, rpmWindowMs: windowMs };
  }
  const redirectUris = (env.SANDBOX_OIDC_REDIRECT_URIS ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  for (const uri of redirectUris) if (!URL.canParse(uri)) throw new Error(`SANDBOX_OIDC_REDIRECT_URIS: not a URL: ${uri}`);
  if (redirectUris.length > 0) options.oidc = { redirectUris };
  if (env.SANDBOX_OPENAI_LATENCY_MS) {
    const latencyMs = Number(env.SANDBOX_OPENAI_LATENCY_MS);
    if (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > 60_000) throw new Error('SANDBOX_OPENAI_LATENCY_MS: expected milliseconds from 0 to 60000, like 1500');
    options.openai = { latencyMs };
  }
  return options;
}

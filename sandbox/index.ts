import { serveEmulators, type SandboxServer } from './server.ts';
import type { Emulator } from './core.ts';
import { DEFAULT_APP_URL } from './defaults.ts';
import { OidcEmulator, type OidcEmulatorOptions } from './oidc/emulator.ts';
import { createMinimaxEmulator, type MinimaxOptionsInput } from './minimax/emulator.ts';
import { createYookassaEmulator } from './yookassa/index.ts';
import { OpenAiEmulator } from './openai/index.ts';
import { TelegramEmulator } from './telegram/index.ts';
import { sandboxTlsFromEnv, type SandboxTls } from './tls.ts';

/**
 * What every emulator may read at request time: the sandbox's own base URL (known only
 * after listening; used in confirmation pages, download URLs, the OIDC issuer) and the
 * Beem app it talks back to (YooKassa notifications go to `${appUrl}/api/payments/yookassa/webhook`).
 */
export interface SandboxContext {
  baseUrl: string;
  /** Where file downloads are served: the same port over https when the sandbox has a certificate. */
  filesUrl: string;
  appUrl: string;
}

export interface SandboxOptions {
  port?: number;
  host?: string;
  appUrl?: string;
  /** MiniMax timings, keys and switches (tests use ~20–50 ms steps). */
  minimax?: MinimaxOptionsInput;
  /** Redirect URIs registered besides `${appUrl}/auth/callback` (the demo's public address). */
  oidc?: OidcEmulatorOptions;
  /** The chat model's latency per call, in milliseconds (default 0). */
  openai?: { latencyMs?: number };
  /**
   * Certificate for https file downloads; by default from SANDBOX_TLS_CERT_FILE and
   * SANDBOX_TLS_KEY_FILE (the test run sets them), null for plain http (the demo).
   */
  tls?: SandboxTls | null;
}

export interface Sandbox extends SandboxServer {
  context: SandboxContext;
  /** Tests start the sandbox first (the app needs its URL), then tell it where the app is. */
  setAppUrl(url: string): void;
  emulator<T extends Emulator>(name: string): T;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const context: SandboxContext = { baseUrl: '', filesUrl: '', appUrl: options.appUrl ?? DEFAULT_APP_URL };
  const emulators: Record<string, Emulator> = {
    oidc: new OidcEmulator(context, options.oidc),
    minimax: createMinimaxEmulator(context, options.minimax),
    yookassa: createYookassaEmulator(context),
    openai: new OpenAiEmulator(undefined, options.openai),
    telegram: new TelegramEmulator(),
  };
  const tls = options.tls === undefined ? sandboxTlsFromEnv(process.env) : options.tls;
  const server = await serveEmulators(emulators, { port: options.port, host: options.host, tls });
  context.baseUrl = server.url;
  context.filesUrl = server.secureUrl;
  return {
    ...server,
    context,
    setAppUrl(url: string) {
      context.appUrl = url.replace(/\/$/, '');
    },
    emulator<T extends Emulator>(name: string): T {
      const found = server.emulators.get(name);
      if (!found) throw new Error(`no emulator named ${name}`);
      return found as T;
    },
  };
}

import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.ts';
import { startApp, type StartAppOptions, type TestApp } from './app.ts';

export interface TestStack {
  app: TestApp;
  sandbox: Sandbox;
  stop(): Promise<void>;
}

/**
 * The sandbox on a random port and the app pointed at it through SANDBOX_URL (the same
 * variables production uses), linked both ways so webhooks find the app.
 */
export async function startStack(options: StartAppOptions & { sandbox?: SandboxOptions } = {}): Promise<TestStack> {
  // MiniMax's rate limit is on by default in the sandbox; only the tests that study it set one.
  const sandbox = await startSandbox({ ...options.sandbox, minimax: { rpmLimit: null, ...options.sandbox?.minimax } });
  const app = await startApp({ ...options, env: { SANDBOX_URL: sandbox.url, ...options.env } });
  sandbox.setAppUrl(app.url);
  return {
    app,
    sandbox,
    async stop() {
      await app.stop();
      await sandbox.close();
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** The built server (dist/server/main.mjs) as a real process; resolves once it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['dist/server/main.mjs'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^"\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    child,
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A production configuration that starts without any outside service being reachable. */
export function productionEnv(dir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    DATABASE_URL: `${dir}/beem.db`,
    STORAGE_DIR: `${dir}/storage`,
    PUBLIC_BASE_URL: 'https://beem.example',
    SESSION_SECRET: 'x'.repeat(48),
    OAUTH_PROVIDER: 'oidc',
    OAUTH_ISSUER: 'https://id.beem.example',
    OAUTH_CLIENT_ID: 'beem',
    OAUTH_CLIENT_SECRET: 'secret',
    OPENAI_API_KEY: 'sk-test',
    MINIMAX_API_KEY: 'mm-test',
    YOOKASSA_SHOP_ID: '1',
    YOOKASSA_API_KEY: 'test_key',
  };
}

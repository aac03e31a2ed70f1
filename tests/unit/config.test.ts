import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/lib/config.ts';
import { createBlobStore } from '../../src/lib/blobs/index.ts';

const productionEnv = {
  NODE_ENV: 'production',
  SESSION_SECRET: 'x'.repeat(40),
  PUBLIC_BASE_URL: 'https://beem.example.ru',
  OAUTH_PROVIDER: 'google',
  OAUTH_CLIENT_ID: 'client',
  OAUTH_CLIENT_SECRET: 'secret',
  OPENAI_API_KEY: 'sk-live',
  MINIMAX_API_KEY: 'mm-live',
  YOOKASSA_SHOP_ID: '123',
  YOOKASSA_API_KEY: 'live_key',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('points every service at the sandbox in development with no variables set', () => {
    const { config, secrets } = loadConfig({}, '/srv/beem');
    expect(config.env).toBe('development');
    expect(config.minimax.apiBase).toBe('http://127.0.0.1:4010/minimax');
    expect(config.llm.baseUrl).toBe('http://127.0.0.1:4010/openai/v1');
    expect(config.yookassa.apiBase).toBe('http://127.0.0.1:4010/yookassa/v3');
    expect(config.telegram.apiBase).toBe('http://127.0.0.1:4010/telegram');
    expect(config.auth).toMatchObject({ provider: 'oidc', issuer: 'http://127.0.0.1:4010/oidc', allowHttp: true });
    expect(config.database).toEqual({ kind: 'sqlite', file: '/srv/beem/data/beem.db' });
    expect(config.yookassa.webhookAllowedIps).toContain('127.0.0.1');
    expect(config.minimax.downloadHosts).toContain('127.0.0.1:4010');
    expect(secrets.minimaxApiKey).not.toBe('');
  });

  it('moves all sandbox URLs with SANDBOX_URL', () => {
    const { config } = loadConfig({ SANDBOX_URL: 'http://127.0.0.1:5999/' });
    expect(config.minimax.apiBase).toBe('http://127.0.0.1:5999/minimax');
    expect(config.minimax.downloadHosts).toContain('127.0.0.1:5999');
  });

  it('accepts a complete production environment with real service defaults', () => {
    const { config } = loadConfig(productionEnv);
    expect(config.isProduction).toBe(true);
    expect(config.minimax.apiBase).toBe('https://api.minimax.io');
    expect(config.yookassa.apiBase).toBe('https://api.yookassa.ru/v3');
    expect(config.auth.allowHttp).toBe(false);
    expect(config.auth.redirectUri).toBe('https://beem.example.ru/auth/callback');
    expect(config.yookassa.webhookAllowedIps).not.toContain('127.0.0.1');
    expect(config.minimax.downloadHosts).not.toContain('127.0.0.1:4010');
  });

  it('refuses to start in production without secrets, naming each one', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toContain('SESSION_SECRET: required in production');
    expect(problems).toContain('MINIMAX_API_KEY: required in production');
    expect(problems).toContain('YOOKASSA_API_KEY: required in production');
  });

  it('refuses a database URL other than PostgreSQL instead of making a folder named after its scheme', () => {
    for (const value of ['mysql://db/beem', 'file:beem.db', 'sqlite:./beem.db', 'postgres+ssl://db/beem', 'pg://db/beem']) {
      expect(problemsOf({ DATABASE_URL: value }), value).toEqual([
        'DATABASE_URL: must be a path to the SQLite database file (e.g. ./data/beem.db) or a PostgreSQL URL (postgres://user:password@host:5432/beem)',
      ]);
    }
    for (const value of ['postgres://beem:pw@db', 'POSTGRES://db', 'postgresql://:5432/beem']) {
      expect(problemsOf({ DATABASE_URL: value }), value).toEqual([
        'DATABASE_URL: must name the PostgreSQL host and database, e.g. postgres://beem:password@db.example:5432/beem',
      ]);
    }
    for (const value of ['./data/beem.db', '/var/lib/beem/beem.db', 'data/demo.db', ':memory:', 'postgres://beem:pw@db/beem', 'postgresql://db:5433/beem']) {
      expect(problemsOf({ DATABASE_URL: value }), value).toEqual([]);
    }
    expect(loadConfig({ DATABASE_URL: 'data/demo.db' }, '/srv/beem').config.database).toEqual({ kind: 'sqlite', file: '/srv/beem/data/demo.db' });
  });

  it('keeps the PostgreSQL password out of the config and in the secrets', () => {
    const { config, secrets } = loadConfig({ DATABASE_URL: 'postgresql://beem:s3cr%40t@db.internal:5432/beem?sslmode=require' });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgresql://beem@db.internal:5432/beem?sslmode=require',
      pool: { size: 10, connectTimeoutMs: 10_000 },
    });
    expect(JSON.stringify(config)).not.toContain('s3cr');
    expect(secrets.databaseUrl).toBe('postgresql://beem:s3cr%40t@db.internal:5432/beem?sslmode=require');
    expect(loadConfig({}).secrets.databaseUrl).toBe('');
  });

  it('sizes the PostgreSQL pool and its connect timeout from DATABASE_POOL_SIZE and DATABASE_CONNECT_TIMEOUT_MS', () => {
    const postgres = { DATABASE_URL: 'postgres://beem:pw@db/beem' };
    expect(loadConfig({ ...postgres, DATABASE_POOL_SIZE: '25', DATABASE_CONNECT_TIMEOUT_MS: '3000' }).config.database).toMatchObject({
      pool: { size: 25, connectTimeoutMs: 3000 },
    });
    expect(problemsOf({ ...postgres, DATABASE_POOL_SIZE: '0' })).toEqual(['DATABASE_POOL_SIZE: must be at least 1']);
    expect(problemsOf({ ...postgres, DATABASE_CONNECT_TIMEOUT_MS: '10' })).toEqual(['DATABASE_CONNECT_TIMEOUT_MS: must be at least 100']);
  });

  it('reads BEEM_ROLE (unset: all) and allows web and worker only on PostgreSQL', () => {
    const postgres = { DATABASE_URL: 'postgres://beem:pw@db/beem' };
    expect(loadConfig({}).config.role).toBe('all');
    expect(loadConfig({ BEEM_ROLE: 'all' }).config.role).toBe('all');
    expect(loadConfig({ ...postgres, BEEM_ROLE: 'web' }).config.role).toBe('web');
    expect(loadConfig({ ...postgres, BEEM_ROLE: 'worker' }).config.role).toBe('worker');
    expect(problemsOf({ ...postgres, BEEM_ROLE: 'api' })).toEqual(['BEEM_ROLE: must be web, worker or all (unset: all, one process does everything)']);
    for (const role of ['web', 'worker']) {
      expect(problemsOf({ BEEM_ROLE: role })).toEqual([
        `BEEM_ROLE: ${role} needs PostgreSQL (DATABASE_URL=postgres://…); on a SQLite file one process does everything: unset BEEM_ROLE`,
      ]);
    }
  });

  it('names the variable and the reason for malformed values', () => {
    expect(problemsOf({ PORT: 'eighty' })).toEqual(['PORT: must be a number']);
    expect(problemsOf({ PORT: '70000' })).toEqual(['PORT: must be at most 65535']);
    expect(problemsOf({ TRUST_PROXY: 'maybe' })).toEqual(['TRUST_PROXY: must be true or false']);
    expect(problemsOf({ MINIMAX_API_BASE: 'api.minimax.io' })[0]).toMatch(/^MINIMAX_API_BASE: must be an absolute URL/);
    expect(problemsOf({ TARIFF_BASIC_PRICE_RUB: '9,90' })[0]).toMatch(/^TARIFF_BASIC_PRICE_RUB: must be an amount/);
    expect(problemsOf({ ...productionEnv, SESSION_SECRET: 'short' })).toEqual([
      'SESSION_SECRET: must be at least 32 characters',
    ]);
  });

  it('reads prices as integer kopecks and lists and booleans as typed values', () => {
    const { config } = loadConfig({
      TARIFF_BASIC_PRICE_RUB: '990.50',
      ADMIN_EMAILS: 'Boss@Example.com, ops@example.com',
      TRUST_PROXY: 'true',
      COST_PROMPT_10S: '3',
    });
    expect(config.pricing.tariffs.find((t) => t.id === 'basic')?.priceKopecks).toBe(99050);
    expect(config.auth.adminEmails).toEqual(['boss@example.com', 'ops@example.com']);
    expect(config.server.trustProxy).toBe(true);
    expect(config.pricing.generation.prompt[10]).toBe(3);
  });

  it('treats empty values as unset', () => {
    const { config } = loadConfig({ PORT: '', MINIMAX_CALLBACK_URL: '' });
    expect(config.server.port).toBe(3000);
    expect(config.minimax.callbackUrl).toBeNull();
  });
});

describe('sign-in provider transport', () => {
  it('refuses a plain-HTTP issuer unless OAUTH_ALLOW_HTTP=true', () => {
    expect(() => loadConfig({ OAUTH_ISSUER: 'http://sso.local/realms/beem' })).toThrow(/OAUTH_ALLOW_HTTP=true/);
    expect(loadConfig({ OAUTH_ISSUER: 'http://sso.local/realms/beem', OAUTH_ALLOW_HTTP: 'true' }).config.auth.allowHttp).toBe(true);
    expect(loadConfig({ OAUTH_ISSUER: 'https://sso.example/realms/beem' }).config.auth.allowHttp).toBe(false);
    expect(() =>
      loadConfig({ ...productionEnv, OAUTH_PROVIDER: 'oidc', OAUTH_ISSUER: 'http://sso.local' }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ OAUTH_PROVIDER: 'yandex', OAUTH_YANDEX_TOKEN_URL: 'http://127.0.0.1:9/token' })).toThrow(
      /plain http/,
    );
  });

  it('uses the real Yandex endpoints in production and the sandbox ones in development', () => {
    expect(loadConfig({ ...productionEnv, OAUTH_PROVIDER: 'yandex' }).config.auth.yandex).toEqual({
      authorizeUrl: 'https://oauth.yandex.ru/authorize',
      tokenUrl: 'https://oauth.yandex.ru/token',
      userinfoUrl: 'https://login.yandex.ru/info',
    });
    expect(loadConfig({ OAUTH_PROVIDER: 'yandex' }).config.auth).toMatchObject({
      allowHttp: true,
      yandex: { userinfoUrl: 'http://127.0.0.1:4010/oidc/yandex/info' },
    });
  });
});

describe('file storage settings', () => {
  const s3Env = {
    STORAGE: 's3',
    S3_ENDPOINT: 'https://storage.yandexcloud.net/',
    S3_REGION: 'ru-central1',
    S3_BUCKET: 'beem-videos',
    S3_ACCESS_KEY_ID: 'YCAJE-key-id',
    S3_SECRET_ACCESS_KEY: 'YCP-secret',
  };

  it('keeps files on the local disk by default, with no S3 secret', () => {
    const { config, secrets } = loadConfig({}, '/srv/beem');
    expect(config.storage).toEqual({ backend: 'local', s3: null });
    expect(config.paths.storageDir).toBe('/srv/beem/storage');
    expect(secrets.s3SecretAccessKey).toBe('');
  });

  it('reads a complete S3 setting, keeping the secret key out of the loggable config', () => {
    const { config, secrets } = loadConfig({ ...s3Env, S3_FORCE_PATH_STYLE: 'true' });
    expect(config.storage).toEqual({
      backend: 's3',
      s3: { endpoint: 'https://storage.yandexcloud.net', region: 'ru-central1', bucket: 'beem-videos', accessKeyId: 'YCAJE-key-id', forcePathStyle: true },
    });
    expect(secrets.s3SecretAccessKey).toBe('YCP-secret');
    expect(JSON.stringify(config)).not.toContain('YCP-secret');
    expect(loadConfig(s3Env).config.storage.s3?.forcePathStyle).toBe(false);
  });

  it('refuses to start with STORAGE=s3 and a missing setting, naming each one', () => {
    for (const name of ['S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
      const env: Record<string, string> = { ...s3Env };
      delete env[name];
      expect(problemsOf(env), name).toEqual([`${name}: required when STORAGE=s3`]);
      expect(problemsOf({ ...s3Env, [name]: '' }), `${name} empty`).toEqual([`${name}: required when STORAGE=s3`]);
    }
    expect(problemsOf({ STORAGE: 's3' })).toHaveLength(5);
    expect(problemsOf({ ...productionEnv, STORAGE: 's3' })).toContain('S3_BUCKET: required when STORAGE=s3');
  });

  it('names malformed storage values', () => {
    expect(problemsOf({ STORAGE: 'gcs' })).toEqual(['STORAGE: must be local or s3']);
    expect(problemsOf({ ...s3Env, S3_ENDPOINT: 'storage.yandexcloud.net' })).toEqual(['S3_ENDPOINT: must be an absolute URL (http:// or https://)']);
    expect(problemsOf({ ...s3Env, S3_BUCKET: 'Beem_Videos' })).toEqual(['S3_BUCKET: must be a bucket name: 3–63 lowercase letters, digits, dots and hyphens']);
    expect(problemsOf({ ...s3Env, S3_FORCE_PATH_STYLE: 'maybe' })).toEqual(['S3_FORCE_PATH_STYLE: must be true or false']);
  });

  it('keeps videos forever without VIDEO_RETENTION_DAYS and reads whole days from 1 to 3650', () => {
    expect(loadConfig({}).config.video.retentionDays).toBeNull();
    expect(loadConfig({ VIDEO_RETENTION_DAYS: '' }).config.video.retentionDays).toBeNull();
    for (const days of [1, 30, 3650]) expect(loadConfig({ VIDEO_RETENTION_DAYS: String(days) }).config.video.retentionDays).toBe(days);
  });

  it.each(['0', '3651', '30.5', '-1', '30d', ' 30', '1e2', 'forever'])('refuses VIDEO_RETENTION_DAYS=%j, saying what it takes', (value) => {
    expect(problemsOf({ VIDEO_RETENTION_DAYS: value })).toEqual([
      'VIDEO_RETENTION_DAYS: must be a whole number of days from 1 to 3650; leave it unset to keep videos forever',
    ]);
  });

  it('ignores S3 settings while STORAGE stays local', () => {
    const { config, secrets } = loadConfig({ S3_BUCKET: 'beem-videos', S3_SECRET_ACCESS_KEY: 'left-over' });
    expect(config.storage.backend).toBe('local');
    expect(secrets.s3SecretAccessKey).toBe('');
  });
});

describe('createBlobStore', () => {
  it('builds the store STORAGE names', () => {
    const local = loadConfig({});
    expect(createBlobStore(local.config, local.secrets).kind).toBe('local');
    const s3 = loadConfig({ STORAGE: 's3', S3_ENDPOINT: 'http://127.0.0.1:9', S3_REGION: 'r', S3_BUCKET: 'bkt', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' });
    const store = createBlobStore(s3.config, s3.secrets);
    expect(store.kind).toBe('s3');
    store.close();
  });
});

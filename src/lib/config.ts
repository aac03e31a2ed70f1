import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { checkModelConfig } from './providers/minimax/model-matrix.ts';
import type { Duration, GenerationMode, Plan } from './model.ts';

/**
 * Configuration is read from the environment once, at start, and validated here.
 * Domain code receives `Config` (safe to log and to show to admins) and `Secrets`
 * (keys and tokens) as arguments; it never reads `process.env` itself.
 *
 * Outside production every external service defaults to the local sandbox
 * (`npm run sandbox`, base `SANDBOX_URL`), so the product runs with no keys at all.
 * In production a missing secret stops the start with a message naming the variable.
 */

export type AppEnv = 'development' | 'production' | 'test';

/**
 * What this process does (`BEEM_ROLE`): `all` (unset) serves HTTP and runs the background work,
 * as one Beem always has; `web` serves HTTP only; `worker` runs the background work and answers
 * only `/healthz` and `/metrics`. Which task runs where is decided in context.ts.
 */
export const PROCESS_ROLES = ['all', 'web', 'worker'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

export const TARIFF_IDS = ['single', 'basic', 'professional'] as const;
export type TariffId = (typeof TARIFF_IDS)[number];

export interface Tariff {
  id: TariffId;
  credits: number;
  /** Price in kopecks: money is never a float here. */
  priceKopecks: number;
  /** Plan the user gets after buying; `null` keeps the current plan (one-off purchase). */
  plan: Exclude<Plan, 'free'> | null;
}

export interface Config {
  env: AppEnv;
  isProduction: boolean;
  role: ProcessRole;
  server: {
    host: string;
    port: number;
    publicBaseUrl: string;
    trustProxy: boolean;
    corsOrigins: string[];
    shutdownTimeoutMs: number;
    /** Whole request (headers and body) from a client: sized for a 10 MB photo at ~256 kbit/s. */
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    /** A JSON, form or webhook body (64 KB at most) must arrive within this. */
    bodyTimeoutMs: number;
  };
  /**
   * SQLite file (the default, one process) or PostgreSQL (src/lib/db/open.ts). The PostgreSQL
   * URL here has its password removed, so the config stays safe to log; the full URL is
   * `Secrets.databaseUrl`. `pool`: connections this process keeps at most, and how long it waits
   * for a new one before the query fails (instead of hanging while the server is unreachable).
   */
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; pool: { size: number; connectTimeoutMs: number } };
  paths: { storageDir: string };
  /**
   * Where files live (src/lib/blobs): `local` under `paths.storageDir`, or `s3` in a private
   * bucket, with `paths.storageDir` then holding only temporary copies for ffmpeg.
   */
  storage: { backend: 'local'; s3: null } | { backend: 's3'; s3: S3Settings };
  log: { level: string };
  session: { ttlMs: number };
  auth: {
    provider: 'google' | 'yandex' | 'oidc';
    issuer: string;
    clientId: string;
    redirectUri: string;
    allowHttp: boolean;
    adminEmails: string[];
    /** Yandex ID has no discovery document: its endpoints are set here (overridable for tests). */
    yandex: { authorizeUrl: string; tokenUrl: string; userinfoUrl: string };
    requestTimeoutMs: number;
  };
  /** Requests per minute per user (per IP when signed out); sign-in attempts per IP. */
  rateLimits: {
    generatePerMinute: number;
    previewPerMinute: number;
    uploadPerMinute: number;
    paymentCreatesPerMinute: number;
    paymentChecksPerMinute: number;
    signInPerMinute: number;
  };
  llm: {
    baseUrl: string;
    model: string;
    enhancerTimeoutMs: number;
    compilerTimeoutMs: number;
    routerTimeoutMs: number;
    jsonMode: 'json_schema' | 'json_object';
  };
  minimax: {
    apiBase: string;
    model: string;
    resolution: '512P' | '720P' | '768P' | '1080P';
    callbackUrl: string | null;
    downloadHosts: string[];
    requestTimeoutMs: number;
    downloadTimeoutMs: number;
    maxVideoBytes: number;
  };
  queue: {
    concurrency: number;
    maxInFlight: number;
    pollIntervalMs: number;
    leaseMs: number;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    stuckAfterMs: number;
    lateWatchMs: number;
    sweepIntervalMs: number;
  };
  /** Server-Sent Events of `/api/status/stream` (src/lib/generation/status-watch.ts). */
  statusStreams: {
    maxOpen: number;
    maxPerUser: number;
    tickMs: number;
    heartbeatMs: number;
    maxAgeMs: number;
  };
  pricing: {
    trialCredits: number;
    generation: Record<GenerationMode, Record<Duration, number>>;
    tariffs: Tariff[];
  };
  yookassa: {
    shopId: string;
    apiBase: string;
    webhookAllowedIps: string[];
    receiptsEnabled: boolean;
    vatCode: number;
    timeoutMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxDelayMs: number;
    reconcileIntervalMs: number;
  };
  telegram: { apiBase: string; chatId: string; enabled: boolean; timeoutMs: number; minIntervalMs: number };
  /** `cacheMs`: how long whole-table figures (ledger check, payments, finished generations) are reused. */
  metrics: { allowedIps: string[]; cacheMs: number };
  /** ffmpeg (posters, marketplace exports) and the export work it does. */
  video: {
    ffmpegPath: string;
    /** ffmpeg processes at once in this process (default: one per CPU core). */
    exportConcurrency: number;
    exportTimeoutMs: number;
    exportLeaseMs: number;
    /** Exports of one owner's videos waiting for or running ffmpeg at once (more: 429). */
    exportsPerUser: number;
    /** A poster's own ffmpeg run (not behind exports) is stopped after this; the first frame stands in. */
    posterTimeoutMs: number;
    /** Days a delivered video's files are kept (VIDEO_RETENTION_DAYS); null keeps them forever. */
    retentionDays: number | null;
  };
}

export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO and most self-hosted stores). */
  forcePathStyle: boolean;
}

export interface Secrets {
  sessionSecret: string;
  oauthClientSecret: string;
  openaiApiKey: string;
  minimaxApiKey: string;
  yookassaSecretKey: string;
  telegramBotToken: string;
  metricsToken: string;
  /** '' unless STORAGE=s3. */
  s3SecretAccessKey: string;
  /** The PostgreSQL connection URL with its password; '' on SQLite. */
  databaseUrl: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** YooKassa's published notification sources (reference/yookassa-api.md §8). */
export const YOOKASSA_PUBLISHED_IPS = [
  '185.71.76.0/27',
  '185.71.77.0/27',
  '77.75.153.0/25',
  '77.75.154.128/25',
  '77.75.156.11',
  '77.75.156.35',
  '2a02:5180::/32',
];

/** MiniMax's CDN hosts that serve generated videos (reference/minimax-api.md §7, §8.2). */
export const MINIMAX_CDN_HOSTS = [
  'video-product.cdn.minimax.io',
  'cdn.hailuoai.com',
  'public-cdn-video-data-algeng.oss-cn-wulanchabu.aliyuncs.com',
];

const DATABASE_URL_SHAPE =
  'must be a path to the SQLite database file (e.g. ./data/beem.db) or a PostgreSQL URL (postgres://user:password@host:5432/beem)';
/** URL schemes are case-insensitive; `pg` reads both spellings. */
const POSTGRES_URL = /^postgres(ql)?:\/\//i;

export function isPostgresUrl(value: string): boolean {
  return POSTGRES_URL.test(value);
}

/** What makes `value` (a postgres:// URL) unusable, or null. */
export function postgresUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URL';
  }
  if (!url.hostname) return 'no host';
  if (url.pathname.replace(/^\//, '') === '') return 'no database name';
  return null;
}

/** The URL with its password removed: what the config (logged, shown to admins) may carry. */
export function withoutPassword(value: string): string {
  const url = new URL(value);
  url.password = '';
  return url.href;
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const url = z.url({ message: 'must be an absolute URL (http:// or https://)' });
/** Rubles as written by people ("990" or "990.00") → integer kopecks. */
const rubles = z
  .string()
  .regex(/^\d+(\.\d{1,2})?$/, 'must be an amount in rubles like 990 or 990.00')
  .transform((v) => Math.round(Number(v) * 100));

/** Ten years: a longer "retention" is keeping forever, which is what leaving it unset says. */
export const MAX_RETENTION_DAYS = 3650;
const RETENTION_DAYS_RULE = `must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}; leave it unset to keep videos forever`;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  PUBLIC_BASE_URL: url.optional(),
  TRUST_PROXY: bool.default(false),
  CORS_ORIGINS: list.default([]),
  SHUTDOWN_TIMEOUT_MS: int(100).default(10_000),
  SERVER_REQUEST_TIMEOUT_MS: int(1000).default(330_000),
  SERVER_HEADERS_TIMEOUT_MS: int(1000).default(20_000),
  REQUEST_BODY_TIMEOUT_MS: int(100).default(10_000),
  // A path to the SQLite file or a PostgreSQL URL. Any other URL (`mysql://…`, `file:…`) must
  // not silently become a folder named after its scheme beside an empty SQLite database.
  DATABASE_URL: z
    .string()
    .min(1)
    .refine((v) => !/^[a-z][a-z0-9+.-]*:/i.test(v) || v === ':memory:' || POSTGRES_URL.test(v), {
      message: DATABASE_URL_SHAPE,
    })
    .refine((v) => !POSTGRES_URL.test(v) || postgresUrlProblem(v) === null, {
      message: 'must name the PostgreSQL host and database, e.g. postgres://beem:password@db.example:5432/beem',
    })
    .default('./data/beem.db'),
  DATABASE_POOL_SIZE: int(1, 1000).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: int(100).default(10_000),
  BEEM_ROLE: z.enum(PROCESS_ROLES, { message: 'must be web, worker or all (unset: all, one process does everything)' }).default('all'),
  STORAGE_DIR: z.string().min(1).default('./storage'),
  STORAGE: z.enum(['local', 's3'], { message: 'must be local or s3' }).default('local'),
  S3_ENDPOINT: url.optional(),
  S3_REGION: z.string().optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name: 3–63 lowercase letters, digits, dots and hyphens')
    .optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  SESSION_SECRET: z.string().optional(),
  SESSION_TTL_DAYS: int(1, 365).default(7),

  SANDBOX_URL: url.default('http://127.0.0.1:4010'),

  OAUTH_PROVIDER: z.enum(['google', 'yandex', 'oidc']).optional(),
  OAUTH_ISSUER: url.optional(),
  OAUTH_CLIENT_ID: z.string().optional(),
  OAUTH_CLIENT_SECRET: z.string().optional(),
  OAUTH_REDIRECT_URI: url.optional(),
  OAUTH_ALLOW_HTTP: bool.optional(),
  OAUTH_YANDEX_AUTHORIZE_URL: url.optional(),
  OAUTH_YANDEX_TOKEN_URL: url.optional(),
  OAUTH_YANDEX_USERINFO_URL: url.optional(),
  OAUTH_TIMEOUT_MS: int(100).default(10_000),
  ADMIN_EMAILS: list.default([]),

  RATE_LIMIT_GENERATE_PER_MIN: int(1).default(10),
  RATE_LIMIT_PREVIEW_PER_MIN: int(1).default(20),
  RATE_LIMIT_UPLOAD_PER_MIN: int(1).default(5),
  RATE_LIMIT_PAYMENTS_PER_MIN: int(1).default(5),
  RATE_LIMIT_PAYMENT_CHECKS_PER_MIN: int(1).default(30),
  RATE_LIMIT_SIGNIN_PER_MIN: int(1).default(30),

  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: url.optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  ENHANCER_TIMEOUT_MS: int(100).default(10_000),
  CAMERA_COMPILER_TIMEOUT_MS: int(100).default(12_000),
  TEMPLATE_ROUTER_TIMEOUT_MS: int(100).default(15_000),
  OPENAI_JSON_MODE: z.enum(['json_schema', 'json_object']).default('json_schema'),

  MINIMAX_API_KEY: z.string().optional(),
  MINIMAX_API_BASE: url.optional(),
  MINIMAX_MODEL: z.string().min(1).default('MiniMax-Hailuo-2.3'),
  MINIMAX_RESOLUTION: z.enum(['512P', '720P', '768P', '1080P']).default('768P'),
  MINIMAX_CALLBACK_URL: url.optional(),
  MINIMAX_DOWNLOAD_HOSTS: list.optional(),
  MINIMAX_REQUEST_TIMEOUT_MS: int(100).default(30_000),
  VIDEO_DOWNLOAD_TIMEOUT_MS: int(1000).default(300_000),
  VIDEO_MAX_BYTES: int(1).default(500 * 1024 * 1024),

  QUEUE_CONCURRENCY: int(1, 32).default(1),
  QUEUE_MAX_IN_FLIGHT: int(1, 1000).default(5),
  POLL_INTERVAL_MS: int(50).default(10_000),
  QUEUE_LEASE_MS: int(100).default(120_000),
  QUEUE_MAX_ATTEMPTS: int(1, 100).default(6),
  QUEUE_BACKOFF_BASE_MS: int(1).default(2_000),
  QUEUE_BACKOFF_MAX_MS: int(1).default(120_000),
  STUCK_AFTER_MS: int(1000).default(10 * 60_000),
  STUCK_LATE_WATCH_MS: int(0).default(6 * 60 * 60_000),
  QUEUE_SWEEP_INTERVAL_MS: int(50).default(30_000),

  STATUS_STREAMS_MAX: int(1, 100_000).default(2_000),
  STATUS_STREAMS_PER_USER: int(1, 1_000).default(6),
  STATUS_STREAM_TICK_MS: int(100, 60_000).default(1_000),
  STATUS_STREAM_HEARTBEAT_MS: int(50, 120_000).default(15_000),
  STATUS_STREAM_MAX_AGE_MS: int(1_000).default(60 * 60_000),

  TRIAL_CREDITS: int(0).default(3),
  COST_PROMPT_6S: int(0).default(1),
  COST_PROMPT_10S: int(0).default(2),
  COST_TEMPLATE_6S: int(0).default(1),
  COST_TEMPLATE_10S: int(0).default(2),
  TARIFF_SINGLE_CREDITS: int(1).default(10),
  TARIFF_SINGLE_PRICE_RUB: rubles.default(390_00),
  TARIFF_BASIC_CREDITS: int(1).default(50),
  TARIFF_BASIC_PRICE_RUB: rubles.default(1490_00),
  TARIFF_PROFESSIONAL_CREDITS: int(1).default(200),
  TARIFF_PROFESSIONAL_PRICE_RUB: rubles.default(4990_00),

  YOOKASSA_SHOP_ID: z.string().optional(),
  YOOKASSA_API_KEY: z.string().optional(),
  YOOKASSA_API_BASE: url.optional(),
  YOOKASSA_WEBHOOK_ALLOWED_IPS: list.optional(),
  YOOKASSA_RECEIPTS_ENABLED: bool.default(false),
  YOOKASSA_VAT_CODE: int(1, 12).default(1),
  YOOKASSA_TIMEOUT_MS: int(100).default(15_000),
  YOOKASSA_MAX_ATTEMPTS: int(1, 10).default(3),
  YOOKASSA_RETRY_BASE_MS: int(1).default(1_000),
  YOOKASSA_RETRY_MAX_DELAY_MS: int(1).default(5_000),
  PAYMENT_RECONCILE_INTERVAL_MS: int(1000).default(5 * 60_000),

  TELEGRAM_BOT_TOKEN: z.string().optional(),
  TELEGRAM_CHAT_ID: z.string().optional(),
  TELEGRAM_API_BASE: url.optional(),
  TELEGRAM_TIMEOUT_MS: int(100).default(10_000),
  TELEGRAM_MIN_INTERVAL_MS: int(0).default(1000),

  METRICS_TOKEN: z.string().optional(),
  METRICS_ALLOWED_IPS: list.default(['127.0.0.1', '::1']),
  METRICS_CACHE_MS: int(0).default(60_000),

  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  EXPORT_CONCURRENCY: int(1, 64).optional(),
  EXPORT_TIMEOUT_MS: int(1000).default(180_000),
  EXPORT_LEASE_MS: int(100).default(30_000),
  EXPORTS_PER_USER: int(1, 100).default(4),
  POSTER_TIMEOUT_MS: int(1000).default(15_000),
  VIDEO_RETENTION_DAYS: z
    .string()
    .regex(/^\d{1,4}$/, RETENTION_DAYS_RULE)
    .transform(Number)
    .refine((days) => days >= 1 && days <= MAX_RETENTION_DAYS, RETENTION_DAYS_RULE)
    .optional(),
});

/** Values that let a development machine talk to the sandbox without any keys. */
const SANDBOX_SECRETS = {
  SESSION_SECRET: 'sandbox-session-secret-not-for-production-use',
  OAUTH_CLIENT_ID: 'beem-sandbox',
  OAUTH_CLIENT_SECRET: 'sandbox-oauth-secret',
  OPENAI_API_KEY: 'sk-sandbox',
  MINIMAX_API_KEY: 'sandbox-minimax-key',
  YOOKASSA_SHOP_ID: '100500',
  YOOKASSA_API_KEY: 'test_sandbox_secret',
  TELEGRAM_BOT_TOKEN: '100500:sandbox-bot-token',
  TELEGRAM_CHAT_ID: '432400514',
} as const;

const REQUIRED_IN_PRODUCTION = [
  'SESSION_SECRET',
  'PUBLIC_BASE_URL',
  'OAUTH_PROVIDER',
  'OAUTH_CLIENT_ID',
  'OAUTH_CLIENT_SECRET',
  'OPENAI_API_KEY',
  'MINIMAX_API_KEY',
  'YOOKASSA_SHOP_ID',
  'YOOKASSA_API_KEY',
] as const;

/** Every S3 setting but the path style: a bucket Beem talks to is named in full, never guessed. */
const REQUIRED_FOR_S3 = ['S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const;

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix] = entry.split('/');
  const family = isIP(address);
  if (family === 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

export interface LoadedConfig {
  config: Config;
  secrets: Secrets;
}

export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): LoadedConfig {
  // Empty strings in an env file mean "not set".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const production = e.NODE_ENV === 'production';

  if (production) {
    for (const name of REQUIRED_IN_PRODUCTION) {
      if (!e[name]) problems.push(`${name}: required in production`);
    }
    if (e.SESSION_SECRET && e.SESSION_SECRET.length < 32) {
      problems.push('SESSION_SECRET: must be at least 32 characters');
    }
    if (e.OAUTH_PROVIDER === 'oidc' && !e.OAUTH_ISSUER) {
      problems.push('OAUTH_ISSUER: required when OAUTH_PROVIDER=oidc');
    }
    if (e.TELEGRAM_BOT_TOKEN && !e.TELEGRAM_CHAT_ID) {
      problems.push('TELEGRAM_CHAT_ID: required when TELEGRAM_BOT_TOKEN is set');
    }
  }
  if (e.STORAGE === 's3') {
    for (const name of REQUIRED_FOR_S3) {
      if (!e[name]) problems.push(`${name}: required when STORAGE=s3`);
    }
  }
  for (const entry of e.YOOKASSA_WEBHOOK_ALLOWED_IPS ?? []) {
    if (!isAddressOrCidr(entry)) problems.push(`YOOKASSA_WEBHOOK_ALLOWED_IPS: "${entry}" is not an IP address or CIDR`);
  }
  for (const entry of e.METRICS_ALLOWED_IPS) {
    if (!isAddressOrCidr(entry)) problems.push(`METRICS_ALLOWED_IPS: "${entry}" is not an IP address or CIDR`);
  }
  if (e.BEEM_ROLE !== 'all' && !POSTGRES_URL.test(e.DATABASE_URL)) {
    // The in-process queue, the in-memory rate limits and SQLite's one writer all assume one
    // process per SQLite file: separate web and worker processes need PostgreSQL.
    problems.push(
      `BEEM_ROLE: ${e.BEEM_ROLE} needs PostgreSQL (DATABASE_URL=postgres://…); on a SQLite file one process does everything: unset BEEM_ROLE`,
    );
  }
  if (e.QUEUE_BACKOFF_MAX_MS < e.QUEUE_BACKOFF_BASE_MS) {
    problems.push('QUEUE_BACKOFF_MAX_MS: must not be smaller than QUEUE_BACKOFF_BASE_MS');
  }
  problems.push(...checkModelConfig(e.MINIMAX_MODEL, e.MINIMAX_RESOLUTION));
  if (problems.length > 0) throw new ConfigError(problems);

  const pick = <K extends keyof typeof SANDBOX_SECRETS>(name: K): string =>
    (e[name] as string | undefined) ?? (production ? '' : SANDBOX_SECRETS[name]);
  const sandbox = (suffix: string) => `${e.SANDBOX_URL.replace(/\/$/, '')}${suffix}`;
  const serviceUrl = (value: string | undefined, productionDefault: string, sandboxSuffix: string) =>
    (value ?? (production ? productionDefault : sandbox(sandboxSuffix))).replace(/\/$/, '');

  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  const oauthProvider = e.OAUTH_PROVIDER ?? (production ? 'google' : 'oidc');
  const defaultIssuer =
    oauthProvider === 'google'
      ? 'https://accounts.google.com'
      : oauthProvider === 'yandex'
        ? 'https://oauth.yandex.ru'
        : production
          ? ''
          : sandbox('/oidc');
  const sandboxHost = new URL(e.SANDBOX_URL).host;
  const issuer = (e.OAUTH_ISSUER ?? defaultIssuer).replace(/\/$/, '');
  const yandex = {
    authorizeUrl: e.OAUTH_YANDEX_AUTHORIZE_URL ?? (production ? 'https://oauth.yandex.ru/authorize' : sandbox('/oidc/authorize')),
    tokenUrl: e.OAUTH_YANDEX_TOKEN_URL ?? (production ? 'https://oauth.yandex.ru/token' : sandbox('/oidc/token')),
    userinfoUrl: e.OAUTH_YANDEX_USERINFO_URL ?? (production ? 'https://login.yandex.ru/info' : sandbox('/oidc/yandex/info')),
  };
  // Plain HTTP to the sign-in provider only by explicit choice, or for the built-in sandbox
  // defaults outside production; anything else would send codes and secrets in the clear.
  const explicitEndpoints =
    e.OAUTH_ISSUER ?? e.OAUTH_YANDEX_AUTHORIZE_URL ?? e.OAUTH_YANDEX_TOKEN_URL ?? e.OAUTH_YANDEX_USERINFO_URL;
  const allowHttp = e.OAUTH_ALLOW_HTTP ?? (!production && explicitEndpoints === undefined);
  const oauthEndpoints = oauthProvider === 'yandex' ? Object.entries(yandex).map(([, v]) => v) : [issuer];
  for (const endpoint of oauthEndpoints) {
    if (!allowHttp && endpoint.startsWith('http:')) {
      throw new ConfigError([
        `OAUTH_ISSUER: ${endpoint} uses plain http; use https, or set OAUTH_ALLOW_HTTP=true for a loopback test provider`,
      ]);
    }
  }

  const config: Config = {
    env: e.NODE_ENV,
    isProduction: production,
    role: e.BEEM_ROLE,
    server: {
      host: e.HOST,
      port: e.PORT,
      publicBaseUrl,
      trustProxy: e.TRUST_PROXY,
      corsOrigins: e.CORS_ORIGINS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      requestTimeoutMs: e.SERVER_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: Math.min(e.SERVER_HEADERS_TIMEOUT_MS, e.SERVER_REQUEST_TIMEOUT_MS),
      bodyTimeoutMs: e.REQUEST_BODY_TIMEOUT_MS,
    },
    database: POSTGRES_URL.test(e.DATABASE_URL)
      ? {
          kind: 'postgres',
          url: withoutPassword(e.DATABASE_URL),
          pool: { size: e.DATABASE_POOL_SIZE, connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS },
        }
      : { kind: 'sqlite', file: e.DATABASE_URL === ':memory:' ? ':memory:' : path.resolve(cwd, e.DATABASE_URL) },
    paths: {
      storageDir: path.resolve(cwd, e.STORAGE_DIR),
    },
    storage:
      e.STORAGE === 's3'
        ? {
            backend: 's3',
            s3: {
              endpoint: e.S3_ENDPOINT!.replace(/\/$/, ''),
              region: e.S3_REGION!,
              bucket: e.S3_BUCKET!,
              accessKeyId: e.S3_ACCESS_KEY_ID!,
              forcePathStyle: e.S3_FORCE_PATH_STYLE,
            },
          }
        : { backend: 'local', s3: null },
    log: { level: e.LOG_LEVEL },
    session: { ttlMs: e.SESSION_TTL_DAYS * 24 * 60 * 60 * 1000 },
    auth: {
      provider: oauthProvider,
      issuer,
      clientId: pick('OAUTH_CLIENT_ID'),
      redirectUri: e.OAUTH_REDIRECT_URI ?? `${publicBaseUrl}/auth/callback`,
      allowHttp,
      adminEmails: e.ADMIN_EMAILS.map((s) => s.toLowerCase()),
      yandex,
      requestTimeoutMs: e.OAUTH_TIMEOUT_MS,
    },
    rateLimits: {
      generatePerMinute: e.RATE_LIMIT_GENERATE_PER_MIN,
      previewPerMinute: e.RATE_LIMIT_PREVIEW_PER_MIN,
      uploadPerMinute: e.RATE_LIMIT_UPLOAD_PER_MIN,
      paymentCreatesPerMinute: e.RATE_LIMIT_PAYMENTS_PER_MIN,
      paymentChecksPerMinute: e.RATE_LIMIT_PAYMENT_CHECKS_PER_MIN,
      signInPerMinute: e.RATE_LIMIT_SIGNIN_PER_MIN,
    },
    llm: {
      baseUrl: serviceUrl(e.OPENAI_BASE_URL, 'https://api.openai.com/v1', '/openai/v1'),
      model: e.OPENAI_MODEL,
      enhancerTimeoutMs: e.ENHANCER_TIMEOUT_MS,
      compilerTimeoutMs: e.CAMERA_COMPILER_TIMEOUT_MS,
      routerTimeoutMs: e.TEMPLATE_ROUTER_TIMEOUT_MS,
      jsonMode: e.OPENAI_JSON_MODE,
    },
    minimax: {
      apiBase: serviceUrl(e.MINIMAX_API_BASE, 'https://api.minimax.io', '/minimax'),
      model: e.MINIMAX_MODEL,
      resolution: e.MINIMAX_RESOLUTION,
      callbackUrl: e.MINIMAX_CALLBACK_URL ?? null,
      downloadHosts: e.MINIMAX_DOWNLOAD_HOSTS ?? (production ? MINIMAX_CDN_HOSTS : [...MINIMAX_CDN_HOSTS, sandboxHost]),
      requestTimeoutMs: e.MINIMAX_REQUEST_TIMEOUT_MS,
      downloadTimeoutMs: e.VIDEO_DOWNLOAD_TIMEOUT_MS,
      maxVideoBytes: e.VIDEO_MAX_BYTES,
    },
    queue: {
      concurrency: e.QUEUE_CONCURRENCY,
      maxInFlight: e.QUEUE_MAX_IN_FLIGHT,
      pollIntervalMs: e.POLL_INTERVAL_MS,
      leaseMs: e.QUEUE_LEASE_MS,
      maxAttempts: e.QUEUE_MAX_ATTEMPTS,
      backoffBaseMs: e.QUEUE_BACKOFF_BASE_MS,
      backoffMaxMs: e.QUEUE_BACKOFF_MAX_MS,
      stuckAfterMs: e.STUCK_AFTER_MS,
      lateWatchMs: e.STUCK_LATE_WATCH_MS,
      sweepIntervalMs: e.QUEUE_SWEEP_INTERVAL_MS,
    },
    statusStreams: {
      maxOpen: e.STATUS_STREAMS_MAX,
      maxPerUser: e.STATUS_STREAMS_PER_USER,
      tickMs: e.STATUS_STREAM_TICK_MS,
      heartbeatMs: e.STATUS_STREAM_HEARTBEAT_MS,
      maxAgeMs: e.STATUS_STREAM_MAX_AGE_MS,
    },
    pricing: {
      trialCredits: e.TRIAL_CREDITS,
      generation: {
        prompt: { 6: e.COST_PROMPT_6S, 10: e.COST_PROMPT_10S },
        template: { 6: e.COST_TEMPLATE_6S, 10: e.COST_TEMPLATE_10S },
      },
      tariffs: [
        { id: 'single', credits: e.TARIFF_SINGLE_CREDITS, priceKopecks: e.TARIFF_SINGLE_PRICE_RUB, plan: null },
        { id: 'basic', credits: e.TARIFF_BASIC_CREDITS, priceKopecks: e.TARIFF_BASIC_PRICE_RUB, plan: 'basic' },
        {
          id: 'professional',
          credits: e.TARIFF_PROFESSIONAL_CREDITS,
          priceKopecks: e.TARIFF_PROFESSIONAL_PRICE_RUB,
          plan: 'professional',
        },
      ],
    },
    yookassa: {
      shopId: pick('YOOKASSA_SHOP_ID'),
      apiBase: serviceUrl(e.YOOKASSA_API_BASE, 'https://api.yookassa.ru/v3', '/yookassa/v3'),
      webhookAllowedIps:
        e.YOOKASSA_WEBHOOK_ALLOWED_IPS ?? (production ? YOOKASSA_PUBLISHED_IPS : [...YOOKASSA_PUBLISHED_IPS, '127.0.0.1', '::1']),
      receiptsEnabled: e.YOOKASSA_RECEIPTS_ENABLED,
      vatCode: e.YOOKASSA_VAT_CODE,
      timeoutMs: e.YOOKASSA_TIMEOUT_MS,
      maxAttempts: e.YOOKASSA_MAX_ATTEMPTS,
      retryBaseMs: e.YOOKASSA_RETRY_BASE_MS,
      retryMaxDelayMs: e.YOOKASSA_RETRY_MAX_DELAY_MS,
      reconcileIntervalMs: e.PAYMENT_RECONCILE_INTERVAL_MS,
    },
    telegram: {
      apiBase: serviceUrl(e.TELEGRAM_API_BASE, 'https://api.telegram.org', '/telegram'),
      chatId: pick('TELEGRAM_CHAT_ID'),
      enabled: Boolean(pick('TELEGRAM_BOT_TOKEN') && pick('TELEGRAM_CHAT_ID')),
      timeoutMs: e.TELEGRAM_TIMEOUT_MS,
      minIntervalMs: e.TELEGRAM_MIN_INTERVAL_MS,
    },
    metrics: { allowedIps: e.METRICS_ALLOWED_IPS, cacheMs: e.METRICS_CACHE_MS },
    video: {
      ffmpegPath: e.FFMPEG_PATH,
      exportConcurrency: e.EXPORT_CONCURRENCY ?? os.availableParallelism(),
      exportTimeoutMs: e.EXPORT_TIMEOUT_MS,
      exportLeaseMs: e.EXPORT_LEASE_MS,
      exportsPerUser: e.EXPORTS_PER_USER,
      posterTimeoutMs: e.POSTER_TIMEOUT_MS,
      retentionDays: e.VIDEO_RETENTION_DAYS ?? null,
    },
  };

  const secrets: Secrets = {
    sessionSecret: pick('SESSION_SECRET'),
    oauthClientSecret: pick('OAUTH_CLIENT_SECRET'),
    openaiApiKey: pick('OPENAI_API_KEY'),
    minimaxApiKey: pick('MINIMAX_API_KEY'),
    yookassaSecretKey: pick('YOOKASSA_API_KEY'),
    telegramBotToken: pick('TELEGRAM_BOT_TOKEN'),
    metricsToken: e.METRICS_TOKEN ?? '',
    s3SecretAccessKey: e.STORAGE === 's3' ? e.S3_SECRET_ACCESS_KEY! : '',
    databaseUrl: POSTGRES_URL.test(e.DATABASE_URL) ? e.DATABASE_URL : '',
  };
  return { config, secrets };
}

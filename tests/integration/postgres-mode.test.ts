import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.ts';
import { createTestDatabase, type TestPostgres } from '../helpers/postgres.ts';
import { productionEnv, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const run = promisify(execFile);

/**
 * `DATABASE_URL=postgres://…` as an operator sets it: the built server and the operator
 * shell as processes on a PostgreSQL database (the rest of the suite runs on it with
 * BEEM_TEST_DATABASE=postgres).
 */
describe('Beem on PostgreSQL (DATABASE_URL=postgres://…)', () => {
  let pg: TestPostgres;
  let server: ServerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    pg = await createTestDatabase();
    env = { ...productionEnv(tempDir()), DATABASE_URL: pg.url };
    server = await startServerProcess(env);
  });
  afterAll(async () => {
    await server?.stop();
    await pg?.drop();
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, ['dist/server/cli.mjs', ...args], {
        env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'silent' },
        timeout: 20_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('migrates the database at start, answers the health check, and logs no password', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    expect(await pg.db.value(`SELECT COUNT(*) FROM schema_migrations`)).toBeGreaterThan(0);
    expect(await pg.db.value(`SELECT to_regclass('public.generations') IS NOT NULL`)).toBe(1);
    const password = new URL(pg.url).password;
    expect(password.length).toBeGreaterThan(0);
    expect(server.output()).toContain('database migrated');
    expect(server.output()).not.toContain(password);
  });

  it('runs operator commands on it, naming the database without its password', async () => {
    const { code, stdout, stderr } = await cli('admin:list');
    expect(code).toBe(0);
    expect(stdout).toContain('No admins yet');
    const shown = new URL(pg.url);
    shown.password = '';
    expect(stderr).toContain(`Database: ${shown.href}`);
    expect(stderr).not.toContain(new URL(pg.url).password);
  });

  it('refuses a SQLite backup and points to pg_dump, recording nothing', async () => {
    const { code, stdout, stderr } = await cli('backup');
    expect(code).toBe(64);
    expect(stdout).toBe('');
    expect(stderr).toContain('pg_dump');
    expect(await pg.db.value(`SELECT COUNT(*) FROM admin_audit WHERE action = 'db.backup'`)).toBe(0);
  });
});

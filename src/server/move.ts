import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ConfigError, isPostgresUrl, loadConfig, postgresUrlProblem, withoutPassword, type LoadedConfig } from '../lib/config.ts';
import { postgresDatabase } from '../lib/db/postgres.ts';
import { createBlobStore } from '../lib/blobs/index.ts';
import { copyShopToPostgres, type TableCopy } from '../lib/move/copy-to-postgres.ts';
import { copyFilesToBucket } from '../lib/move/files-to-bucket.ts';
import { MoveError } from '../lib/move/move-error.ts';
import { openSqliteSnapshot } from '../lib/move/sqlite-snapshot.ts';
import { parseArgs, type Parsed } from './cli-args.ts';

/**
 * Moving a shop off one machine (`npm run migrate:to-postgres`, `npm run migrate:to-s3`):
 * node dist/server/move.mjs <to-postgres|to-s3> [options]. What was done goes to stdout, why
 * it stopped to stderr. Exit status: 0 done, 64 usage, 65 refused or a check failed (nothing
 * written), 66 no source file, 78 configuration, 2 some files failed to copy, 1 anything else.
 * Passwords and keys are never printed: URLs are shown without their password.
 */

const USAGE = [
  'Usage:',
  '  npm run migrate:to-postgres -- [--from FILE] [--to URL] [--into-non-empty]',
  '      copies the SQLite database (--from, default the DATABASE_URL file) into PostgreSQL',
  '      (--to, default DATABASE_URL when it is a postgres:// URL), checking the ledger before and after;',
  '      --into-non-empty: the target already holds an earlier copy of this shop (only missing rows are added)',
  '  npm run migrate:to-s3',
  "      copies STORAGE_DIR's user files into the bucket that STORAGE=s3 and S3_* name",
].join('\n');

class UsageError extends Error {}

const EXIT = { usage: 64, refused: 65, noInput: 66, config: 78, filesFailed: 2 } as const;

function option(args: Parsed, name: string): string | null {
  const value = args.options[name];
  if (value === true) throw new UsageError(`--${name} needs a value`);
  return value ?? null;
}

/** A switch such as `--into-non-empty`: present or not, never with a value (a stray word after it is a mistake). */
function flag(args: Parsed, name: string): boolean {
  const value = args.options[name];
  if (typeof value === 'string') throw new UsageError(`--${name} takes no value (got ${JSON.stringify(value.slice(0, 40))})`);
  return value === true;
}

function checkOptions(args: Parsed, known: readonly string[]): void {
  const unknown = Object.keys(args.options).filter((name) => !known.includes(name));
  if (unknown.length > 0 || args.positional.length > 0) {
    throw new UsageError(`unknown argument: ${[...unknown.map((name) => `--${name}`), ...args.positional].join(' ')}`);
  }
}

async function toPostgres(loaded: LoadedConfig, args: Parsed): Promise<void> {
  checkOptions(args, ['from', 'to', 'into-non-empty']);
  const { database } = loaded.config;
  const intoNonEmpty = flag(args, 'into-non-empty');
  const from = option(args, 'from');
  const file = from ? path.resolve(from) : database.kind === 'sqlite' ? database.file : null;
  if (!file) throw new UsageError('DATABASE_URL names PostgreSQL: give the SQLite file to copy with --from FILE');
  const url = option(args, 'to') ?? (database.kind === 'postgres' ? loaded.secrets.databaseUrl : null);
  if (!url) throw new UsageError('no PostgreSQL to copy into: give --to postgres://… or set DATABASE_URL to it');
  if (!isPostgresUrl(url) || postgresUrlProblem(url) !== null) {
    throw new UsageError(`--to must be a PostgreSQL URL naming host and database (postgres://user@host:5432/beem), not ${isPostgresUrl(url) ? withoutPassword(url) : JSON.stringify(url.slice(0, 40))}`);
  }
  if (file === ':memory:' || !fs.existsSync(file)) {
    console.error(`No SQLite database at ${file}: nothing to copy.`);
    process.exitCode = EXIT.noInput;
    return;
  }

  const source = openSqliteSnapshot(file);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', (err) => console.error(`An idle PostgreSQL connection failed: ${err.message}`));
  const target = postgresDatabase(pool);
  try {
    console.log(`Copying ${file} (schema ${source.schemaVersion}) into ${withoutPassword(url)}${intoNonEmpty ? ' (into a non-empty target)' : ''}`);
    const report = await copyShopToPostgres({
      source,
      target,
      intoNonEmpty,
      onTable: (copy) => console.log(`  ${describeCopy(copy)}`),
    });
    console.log(`Identity sequences continue at: ${report.sequences.map((s) => `${s.table}.${s.column} ${s.next}`).join(', ')}`);
    console.log(`Checked on both sides: every balance equals the sum of its ledger; rows and money totals are equal in ${report.figures.length} tables:`);
    for (const figures of report.figures.filter((f) => Object.keys(f.totals).length > 0)) {
      console.log(`  ${figures.table}: ${figures.rows} rows, ${Object.entries(figures.totals).map(([column, total]) => `${column} ${total}`).join(', ')}`);
    }
    console.log('Committed. Point DATABASE_URL at PostgreSQL and start Beem.');
  } finally {
    source.close();
    await target.end();
  }
}

function describeCopy(copy: TableCopy): string {
  const kept = copy.kept > 0 ? `, ${copy.kept} already there (kept)` : '';
  return `${copy.table.padEnd(22)} ${copy.rows} rows: ${copy.copied} copied${kept}`;
}

async function toS3(loaded: LoadedConfig, args: Parsed): Promise<void> {
  checkOptions(args, []);
  const { config } = loaded;
  if (config.storage.backend !== 's3') {
    console.error(
      'migrate:to-s3 copies STORAGE_DIR into the bucket Beem is configured for, and STORAGE is not s3.\n' +
        '  Set STORAGE=s3 with S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY (and S3_FORCE_PATH_STYLE if needed);\n' +
        '  STORAGE_DIR stays the folder the files are copied from.',
    );
    process.exitCode = EXIT.config;
    return;
  }
  const { storageDir } = config.paths;
  if (!fs.existsSync(storageDir)) {
    console.error(`No storage folder at ${storageDir}: nothing to copy (STORAGE_DIR names the folder to copy from).`);
    process.exitCode = EXIT.noInput;
    return;
  }
  const store = createBlobStore(config, loaded.secrets);
  try {
    const { s3 } = config.storage;
    console.log(`Copying ${storageDir}/users into bucket ${s3.bucket} at ${s3.endpoint}`);
    // A wrong bucket, key or permission stops here, before the first file.
    await store.verify();
    const report = await copyFilesToBucket({ storageDir, store });
    const megabytes = (report.bytesUploaded / 1024 / 1024).toFixed(1);
    console.log(
      `Uploaded ${report.uploaded} new file(s) and ${report.replaced} replaced (an earlier copy of another size), ${megabytes} MB; ` +
        `${report.present} already in the bucket with the same size; ${report.ignored} temporary file(s) skipped.`,
    );
    if (report.refused.length > 0) console.log(`Not copied, not names Beem makes (left on disk): ${report.refused.join(', ')}`);
    if (report.failed > 0) {
      console.error(`${report.failed} file(s) failed to copy; run again to retry them:`);
      for (const failure of report.failures) console.error(`  ${failure.key}: ${failure.error}`);
      process.exitCode = EXIT.filesFailed;
    } else {
      console.log('Every file is in the bucket with its size checked.');
    }
  } finally {
    store.close();
  }
}

const commands: Record<string, (loaded: LoadedConfig, args: Parsed) => Promise<void>> = {
  'to-postgres': toPostgres,
  'to-s3': toS3,
};

async function run(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === 'help' || name === '--help') {
    console.log(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) {
    console.error(`Unknown command: ${name}\n\n${USAGE}`);
    process.exitCode = EXIT.usage;
    return;
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exitCode = EXIT.config;
    return;
  }
  try {
    await command(loaded, parseArgs(rest));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`);
      process.exitCode = EXIT.usage;
    } else if (err instanceof MoveError) {
      console.error([err.message, ...err.details.map((line) => `  - ${line}`)].join('\n'));
      process.exitCode = EXIT.refused;
    } else {
      throw err;
    }
  }
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

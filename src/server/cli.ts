import path from 'node:path';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { backupDatabase, migrate, openDatabase } from '../lib/db/index.ts';

/**
 * Operator commands for the shell (`npm run admin -- <command>`), using the same service
 * functions as the admin pages. Each prints what it did; a failure exits non-zero.
 */

type Command = (args: string[]) => Promise<void>;

const usage = `Usage: node dist/server/cli.mjs <command> [args]

Commands:
  backup [file]    consistent online copy of the database (default: data/backups/beem-<time>.db)`;

function load() {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
}

const commands: Record<string, Command> = {
  async backup(args) {
    const { config } = load();
    const db = openDatabase(config.paths.databaseFile);
    migrate(db);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const target = path.resolve(
      args[0] ?? path.join(path.dirname(config.paths.databaseFile), 'backups', `beem-${stamp}.db`),
    );
    await backupDatabase(db, target);
    db.close();
    console.log(`Backup written to ${target}`);
  },
};

async function run(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(usage);
    process.exit(name ? 64 : 0);
  }
  await command(args);
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { ConfigError, loadConfig, type LoadedConfig } from '../lib/config.ts';
import { closeContext, createContext, type AppContext } from '../lib/context.ts';
import { backupDatabase } from '../lib/db/index.ts';
import { createLogger } from '../lib/logger.ts';
import { cliActor, recordAdminAction } from '../lib/admin/audit.ts';
import { grantAdminByEmail, listPendingAdmins, revokeAdminByEmail, searchUsers } from '../lib/admin/users.ts';
import { recheckOpenPayments } from '../lib/admin/payments.ts';
import { sendTestAlert } from '../lib/admin/alerts.ts';
import { failStuckGenerations, refundGenerationByAdmin, requeueGeneration, retryGenerationByAdmin } from '../lib/admin/generations.ts';
import { isAppError } from '../lib/errors.ts';
import { t } from '../lib/i18n/index.ts';
import { parseArgs, type Parsed } from './cli-args.ts';

/**
 * Operator commands for the shell (`npm run admin -- <command>`), using the same service
 * functions as the admin pages; every change is audited with actor `cli`. Each command
 * prints what it did on stdout (logs go to stderr); a failure exits non-zero.
 */

type Command = {
  usage: string;
  run: (ctx: AppContext, args: Parsed) => Promise<void>;
};

class UsageError extends Error {}

function requireArg(args: Parsed, index: number, name: string): string {
  const value = args.positional[index];
  if (!value) throw new UsageError(`missing <${name}>`);
  return value;
}

function option(args: Parsed, name: string): string | null {
  const value = args.options[name];
  return typeof value === 'string' ? value : null;
}

const commands: Record<string, Command> = {
  'admin:grant': {
    usage: 'admin:grant <email> [--reason text]   make this email an admin (now, or at its first sign-in)',
    async run(ctx, args) {
      const email = requireArg(args, 0, 'email').trim().toLowerCase();
      const outcome = await grantAdminByEmail(ctx.db, { email, reason: option(args, 'reason'), actor: cliActor, now: ctx.clock.now() });
      const said: Record<typeof outcome, string> = {
        promoted: `${email} is now an admin.`,
        already_admin: `${email} was already an admin; nothing changed.`,
        pending: `No user with ${email} yet: they become an admin at their first sign-in.`,
      };
      console.log(said[outcome]);
    },
  },
  'admin:revoke': {
    usage: 'admin:revoke <email> [--reason text]  remove the admin role (or the waiting grant)',
    async run(ctx, args) {
      const email = requireArg(args, 0, 'email').trim().toLowerCase();
      const outcome = await revokeAdminByEmail(ctx.db, { email, reason: option(args, 'reason'), actor: cliActor, now: ctx.clock.now() });
      const said: Record<typeof outcome, string> = {
        revoked: `${email} is no longer an admin.`,
        not_admin: `${email} was not an admin; nothing changed.`,
        pending_removed: `The waiting admin grant for ${email} was withdrawn.`,
        unknown: `No user and no waiting grant for ${email}; nothing changed.`,
      };
      console.log(said[outcome]);
      if (ctx.config.auth.adminEmails.includes(email)) {
        console.log(`Note: ${email} is listed in ADMIN_EMAILS and becomes an admin again at the next sign-in; remove it there too.`);
      }
    },
  },
  'admin:list': {
    usage: 'admin:list                            list admins and waiting grants',
    async run(ctx) {
      const { users } = await searchUsers(ctx.db, { role: 'admin', sort: 'email', direction: 'asc', limit: 200 });
      for (const user of users) console.log(`${user.email}\t${user.id}${user.disabled ? '\tdisabled' : ''}`);
      const pending = await listPendingAdmins(ctx.db);
      for (const grant of pending) console.log(`${grant.email}\t(waiting for first sign-in)`);
      if (users.length === 0 && pending.length === 0) console.log('No admins yet: run admin:grant <email>.');
    },
  },
  backup: {
    usage: 'backup [file]                         consistent online copy of the database (default: data/backups/beem-<time>.db)',
    async run(ctx, args) {
      const { database } = ctx.config;
      if (database.kind !== 'sqlite' || !ctx.sqlite) {
        console.error(
          'backup copies the SQLite database file; this Beem runs on PostgreSQL. Back it up with PostgreSQL\'s own tools,\n' +
            `  e.g.  pg_dump --format=custom --file=beem-$(date +%F).dump "${database.kind === 'postgres' ? database.url : 'DATABASE_URL'}"`,
        );
        process.exitCode = 64;
        return;
      }
      const stamp = new Date(ctx.clock.now()).toISOString().replace(/[:.]/g, '-');
      const target = path.resolve(args.positional[0] ?? path.join(path.dirname(database.file), 'backups', `beem-${stamp}.db`));
      // Recorded first, so the copy carries the record of its own making.
      await recordAdminAction(ctx.db, { actor: cliActor, action: 'db.backup', targetType: 'system', targetId: target, now: ctx.clock.now() });
      await backupDatabase(ctx.sqlite, target);
      console.log(`Backup written to ${target}`);
    },
  },
  'payments:recheck': {
    usage: 'payments:recheck                      re-check every open payment with YooKassa and credit paid ones (once)',
    async run(ctx) {
      const report = await recheckOpenPayments(ctx, { actor: cliActor });
      console.log(
        `Checked ${report.checked} open payment(s): ${report.credited} credited, ${report.changed} changed status, ` +
          `${report.stillOpen} still open, ${report.failed} failed to check.`,
      );
      if (report.failed > 0) process.exitCode = 2;
    },
  },
  'generations:requeue': {
    usage: 'generations:requeue <id> [--reason text]  a queued/processing generation resumes from its step now',
    async run(ctx, args) {
      const id = requireArg(args, 0, 'id');
      await requeueGeneration(ctx, { id, reason: option(args, 'reason'), actor: cliActor });
      const row = (await ctx.db.get<{ status: string; step: string }>('SELECT status, step FROM generations WHERE id = ?', [id]))!;
      console.log(`${id} is due now (${row.status}, step ${row.step}); the running server's worker picks it up within a second.`);
    },
  },
  'generations:fail-stuck': {
    usage: 'generations:fail-stuck                 fail (and refund once) generations processing longer than STUCK_AFTER_MS',
    async run(ctx) {
      const { failed } = await failStuckGenerations(ctx, { actor: cliActor });
      console.log(failed.length === 0 ? 'No stuck generations.' : `Failed and refunded ${failed.length}: ${failed.join(', ')}`);
    },
  },
  'generations:retry': {
    usage: 'generations:retry <id> [--free --reason text]  queue a failed generation again (new hold, or free with a reason)',
    async run(ctx, args) {
      const id = requireArg(args, 0, 'id');
      const free = args.options.free === true || args.options.free === 'true';
      const result = await retryGenerationByAdmin(ctx, { id, free, reason: option(args, 'reason'), actor: cliActor });
      console.log(`Queued ${result.generationId} as a retry of ${id} (${free ? 'free' : `${result.cost} credit(s) held`}).`);
    },
  },
  'generations:refund': {
    usage: 'generations:refund <id> --reason text  return a finished generation\'s credits (once)',
    async run(ctx, args) {
      const id = requireArg(args, 0, 'id');
      const result = await refundGenerationByAdmin(ctx, { id, reason: option(args, 'reason') ?? '', actor: cliActor });
      console.log(result.applied ? `Refunded ${result.credits} credit(s) for ${id}.` : `${id} was already refunded; nothing changed.`);
    },
  },
  'alerts:test': {
    usage: 'alerts:test                           send a TEST_ALERT through the notifier and report its delivery',
    async run(ctx) {
      const { chat } = await sendTestAlert(ctx, { actor: cliActor });
      if (chat.state !== 'ok' && chat.state !== 'disabled') console.log(`Alert chat ${chat.chatId}: ${chat.state}${chat.detail ? ` (${chat.detail})` : ''}`);
      await ctx.notifier.flush();
      const row = await ctx.db.get<{ delivery: string; delivery_error: string | null }>(
        `SELECT delivery, delivery_error FROM operator_alerts WHERE stage = 'TEST_ALERT' ORDER BY id DESC LIMIT 1`,
      );
      console.log(`Test alert: ${row?.delivery ?? 'not recorded'}${row?.delivery_error ? ` (${row.delivery_error})` : ''}`);
      if (row?.delivery !== 'sent') process.exitCode = 2;
    },
  },
};

function usage(): string {
  return [
    'Usage: npm run admin -- <command> [args]   (node dist/server/cli.mjs <command> [args])',
    '',
    'Commands:',
    ...Object.values(commands).map((c) => `  ${c.usage}`),
  ].join('\n');
}

function load(): LoadedConfig {
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

async function run(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === 'help' || name === '--help') {
    console.log(usage());
    return;
  }
  const command = commands[name];
  if (!command) {
    console.error(`Unknown command: ${name}\n\n${usage()}`);
    process.exit(64);
  }
  const loaded = load();
  // Acting on another database than the server's is the easy mistake (the demo uses
  // data/demo.db): say which one this is, and never create an empty one by accident.
  const { database } = loaded.config;
  if (database.kind === 'sqlite') {
    if (database.file !== ':memory:' && !fs.existsSync(database.file)) {
      console.error(
        `No database at ${database.file}: nothing to act on, and none was created.\n` +
          '  Beem creates its database at its first start. Point DATABASE_URL at the one the server uses,\n' +
          '  e.g. for `npm run demo`:  DATABASE_URL=data/demo.db npm run admin -- ' + process.argv.slice(2).join(' '),
      );
      process.exit(66); // EX_NOINPUT
    }
    console.error(`Database: ${database.file}`);
  } else {
    // The URL without its password (config.ts).
    console.error(`Database: ${database.url}`);
  }
  // Logs to stderr: stdout carries only what the command reports.
  const ctx = await createContext(loaded, { log: createLogger(loaded.config.log.level, pino.destination(2)) });
  try {
    await command.run(ctx, parseArgs(rest));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${name}: ${err.message}\n  ${command.usage}`);
      process.exitCode = 64;
    } else if (isAppError(err)) {
      console.error(t('en', `errors.${err.code}`, { ...err.params, field: err.field ?? '' }));
      process.exitCode = 1;
    } else {
      throw err;
    }
  } finally {
    await ctx.notifier.flush();
    await closeContext(ctx);
  }
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

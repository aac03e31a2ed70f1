import { beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { upsertUserFromIdentity, type Identity } from '../../src/lib/auth/users.ts';

let db: Db;
const policy = (now: number, adminEmails: string[] = []) => ({ now, trialCredits: 3, adminEmails });
const identity = (over: Partial<Identity> = {}): Identity => ({
  provider: 'google',
  subject: 'g-1',
  email: 'anna@example.ru',
  name: 'Anna',
  picture: null,
  ...over,
});
const trialCount = () => db.value("SELECT COUNT(*) FROM credit_ledger WHERE kind = 'trial'");

beforeEach(() => {
  db = openDatabase(':memory:');
  migrate(db);
});

describe('users from sign-in identities', () => {
  it('creates once with the consent time, then updates the profile on later sign-ins', async () => {
    const first = await upsertUserFromIdentity(db, identity(), policy(1000));
    expect(first).toMatchObject({ created: true, linked: false, user: { email: 'anna@example.ru', balance: 3, role: 'user' } });
    expect(await db.value('SELECT consentAt FROM users')).toBe(1000);
    const again = await upsertUserFromIdentity(db, identity({ name: 'Anna P.', picture: 'https://x/p.png' }), policy(2000));
    expect(again).toMatchObject({ created: false, linked: false, user: { id: first.user.id, name: 'Anna P.', image: 'https://x/p.png' } });
    expect(await trialCount()).toBe(1);
  });

  it('links a verified email arriving from another provider to the same account (credits kept)', async () => {
    const google = await upsertUserFromIdentity(db, identity(), policy(1000));
    const yandex = await upsertUserFromIdentity(db, identity({ provider: 'yandex', subject: '4242', email: 'ANNA@example.ru' }), policy(2000));
    expect(yandex).toMatchObject({ created: false, linked: true, user: { id: google.user.id, balance: 3 } });
    expect(await db.get('SELECT auth_provider, auth_subject FROM users')).toEqual({ auth_provider: 'yandex', auth_subject: '4242' });
    expect(await trialCount()).toBe(1);
  });

  it('keeps the old email when the new one already belongs to another account', async () => {
    const a = await upsertUserFromIdentity(db, identity(), policy(1000));
    await upsertUserFromIdentity(db, identity({ subject: 'g-2', email: 'boris@example.ru' }), policy(1000));
    const moved = await upsertUserFromIdentity(db, identity({ email: 'boris@example.ru' }), policy(2000, ['boris@example.ru']));
    expect(moved.user).toMatchObject({ id: a.user.id, email: 'anna@example.ru', role: 'user' });
  });

  it('makes ADMIN_EMAILS admins, and never demotes an admin', async () => {
    const admin = await upsertUserFromIdentity(db, identity(), policy(1000, ['anna@example.ru']));
    expect(admin.user.role).toBe('admin');
    expect((await upsertUserFromIdentity(db, identity(), policy(2000, []))).user.role).toBe('admin');
  });
});

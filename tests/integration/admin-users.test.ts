import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { findLedgerMismatches, listLedgerEntries } from '../../src/lib/billing/ledger.ts';
import { listAudit } from '../../src/lib/admin/audit.ts';
import { upsertUserFromIdentity } from '../../src/lib/auth/users.ts';
import { grantAdminByEmail, revokeAdminByEmail } from '../../src/lib/admin/users.ts';
import { cliActor } from '../../src/lib/admin/audit.ts';

describe('admin actions on users', () => {
  let app: TestApp;
  let admin: SignedInUser;
  beforeAll(async () => {
    app = await startApp();
    admin = await createSignedInUser(app.ctx, { email: 'boss@example.ru', role: 'admin' });
  });
  afterAll(async () => {
    await app.stop();
  });
  afterEach(async () => {
    expect(await findLedgerMismatches(app.ctx.db)).toEqual([]);
  });

  const db = () => app.ctx.db;
  const balanceOf = (id: string) => db().value<number>('SELECT generation_balance FROM users WHERE id = ?', [id]);
  const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
    apiFetch(app.url, path, { cookie: admin.cookie, json, headers });
  const postForm = (path: string, fields: Record<string, string>) =>
    apiFetch(app.url, path, {
      cookie: admin.cookie,
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  it('adds credits with a reason: one admin_adjustment ledger line referencing its audit row', async () => {
    const { user } = await createSignedInUser(app.ctx, { balance: 2 });
    const res = await post(`/api/admin/users/${user.id}/balance`, { delta: 5, reason: 'компенсация за сбой' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { balanceAfter: number; auditId: number; applied: boolean };
    expect(body).toMatchObject({ success: true, balanceAfter: 7, applied: true });
    expect(await balanceOf(user.id)).toBe(7);

    const line = (await listLedgerEntries(db(), user.id))[0]!;
    expect(line).toMatchObject({ kind: 'admin_adjustment', delta: 5, reference: `admin:${body.auditId}`, note: 'компенсация за сбой', balanceAfter: 7 });
    const [audit] = await listAudit(db(), { targetId: user.id });
    expect(audit).toMatchObject({
      id: body.auditId,
      adminId: admin.user.id,
      actor: 'boss@example.ru',
      action: 'user.adjust_balance',
      targetType: 'user',
      reason: 'компенсация за сбой',
      detail: { delta: 5, balanceBefore: 2, balanceAfter: 7 },
    });
  });

  it('takes credits but never below zero, and requires a reason', async () => {
    const { user } = await createSignedInUser(app.ctx, { balance: 3 });
    const tooMuch = await post(`/api/admin/users/${user.id}/balance`, { delta: -4, reason: 'ошибочное начисление' });
    expect(tooMuch.status).toBe(400);
    expect(await tooMuch.json()).toMatchObject({ code: 'ADMIN_BALANCE_WOULD_BE_NEGATIVE' });
    const noReason = await post(`/api/admin/users/${user.id}/balance`, { delta: -1, reason: ' ' });
    expect(noReason.status).toBe(400);
    expect(await noReason.json()).toMatchObject({ code: 'ADMIN_REASON_REQUIRED', field: 'reason' });
    const zero = await post(`/api/admin/users/${user.id}/balance`, { delta: 0, reason: 'ноль' });
    expect(((await zero.json()) as { code: string }).code).toBe('ADMIN_DELTA_INVALID');
    expect(await balanceOf(user.id)).toBe(3);
    expect(await listAudit(db(), { targetId: user.id })).toEqual([]);

    const exact = await post(`/api/admin/users/${user.id}/balance`, { delta: -3, reason: 'ошибочное начисление' });
    expect(exact.status).toBe(200);
    expect(await balanceOf(user.id)).toBe(0);
  });

  it('applies a resent form once (the one-time request key), answering "already done"', async () => {
    const { user } = await createSignedInUser(app.ctx, { balance: 0 });
    const fields = { delta: '10', reason: 'бонус за отзыв', requestKey: 'form-key-0001', returnTo: `/admin/users/${user.id}` };
    const first = await postForm(`/api/admin/users/${user.id}/balance`, fields);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`/admin/users/${user.id}?notice=balance_adjusted&n_balance=10`);
    const again = await postForm(`/api/admin/users/${user.id}/balance`, fields);
    expect(again.headers.get('location')).toBe(`/admin/users/${user.id}?notice=already_done&n_balance=10`);
    expect(await balanceOf(user.id)).toBe(10);
    expect((await listLedgerEntries(db(), user.id)).filter((l) => l.reference.startsWith('admin:'))).toHaveLength(1);

    // The banner is shown on the page the form came back to.
    const page = await apiFetch(app.url, first.headers.get('location')!, { cookie: admin.cookie });
    expect(await page.text()).toContain('Баланс изменён. Теперь на балансе: 10.');
  });

  it('shows a form error on the page instead of a JSON body', async () => {
    const { user } = await createSignedInUser(app.ctx, { balance: 1 });
    const res = await postForm(`/api/admin/users/${user.id}/balance`, { delta: '-5', reason: 'списание', returnTo: `/admin/users/${user.id}` });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/users/${user.id}?error=ADMIN_BALANCE_WOULD_BE_NEGATIVE`);
    const page = await apiFetch(app.url, res.headers.get('location')!, { cookie: admin.cookie });
    expect(await page.text()).toContain('Нельзя списать больше, чем на балансе');
  });

  it('never redirects a form to another site', async () => {
    const { user } = await createSignedInUser(app.ctx, { balance: 1 });
    for (const returnTo of ['https://evil.example/admin', '//evil.example/admin', '/admin/../app', '/app']) {
      const res = await postForm(`/api/admin/users/${user.id}/balance`, { delta: '1', reason: 'проверка', returnTo });
      expect(res.headers.get('location'), returnTo).toMatch(new RegExp(`^/admin/users/${user.id}\\?`));
    }
  });

  it('sets the plan and a manual subscription with an expiry', async () => {
    const { user } = await createSignedInUser(app.ctx);
    const res = await post(`/api/admin/users/${user.id}/subscription`, { plan: 'professional', isPaid: true, expiresAt: '2026-03-31', reason: 'партнёр' });
    expect(res.status).toBe(200);
    expect(await db().value('SELECT plan FROM users WHERE id = ?', [user.id])).toBe('professional');
    // The end of 31 March in Moscow (UTC+3).
    expect(await db().get('SELECT plan, isPaid, expiresAt, provider FROM admin_subscriptions WHERE userId = ?', [user.id])).toEqual({
      plan: 'professional',
      isPaid: 1,
      expiresAt: Date.UTC(2026, 2, 31, 21, 0, 0) - 1,
      provider: 'manual',
    });
    expect((await listAudit(db(), { targetId: user.id }))[0]).toMatchObject({ action: 'user.set_subscription', reason: 'партнёр', detail: { planBefore: 'free', plan: 'professional' } });

    const bad = await post(`/api/admin/users/${user.id}/subscription`, { plan: 'gold' });
    expect(((await bad.json()) as { code: string }).code).toBe('ADMIN_PLAN_INVALID');
  });

  it('grants and removes the admin role, with a reason, and refuses to demote oneself', async () => {
    const { user, cookie } = await createSignedInUser(app.ctx, { email: 'helper@example.ru' });
    expect((await apiFetch(app.url, '/api/admin/dashboard', { cookie })).status).toBe(403);
    const noReason = await post(`/api/admin/users/${user.id}/role`, { role: 'admin' });
    expect(((await noReason.json()) as { code: string }).code).toBe('ADMIN_REASON_REQUIRED');

    expect((await post(`/api/admin/users/${user.id}/role`, { role: 'admin', reason: 'новый оператор' })).status).toBe(200);
    expect((await apiFetch(app.url, '/api/admin/dashboard', { cookie })).status).toBe(200);
    expect((await post(`/api/admin/users/${user.id}/role`, { role: 'user', reason: 'ушёл из команды' })).status).toBe(200);
    expect((await apiFetch(app.url, '/api/admin/dashboard', { cookie })).status).toBe(403);
    expect((await listAudit(db(), { targetId: user.id })).map((a) => [a.action, a.reason])).toEqual([
      ['user.revoke_admin', 'ушёл из команды'],
      ['user.grant_admin', 'новый оператор'],
    ]);

    const self = await post(`/api/admin/users/${admin.user.id}/role`, { role: 'user', reason: 'случайно' });
    expect(((await self.json()) as { code: string }).code).toBe('ADMIN_CANNOT_DEMOTE_SELF');
  });

  it('disabling ends every session at once; enabling lets the user sign in again', async () => {
    const { user, cookie } = await createSignedInUser(app.ctx, { email: 'spammer@example.ru' });
    await createSignedInUser(app.ctx, { email: 'spammer@example.ru' }); // a second device
    expect((await apiFetch(app.url, '/api/me', { cookie })).status).toBe(200);
    const res = await post(`/api/admin/users/${user.id}/disabled`, { disabled: true, reason: 'мошенничество' });
    expect(await res.json()).toMatchObject({ success: true, applied: true, sessionsEnded: 2 });
    expect(await db().value('SELECT COUNT(*) FROM sessions WHERE userId = ?', [user.id])).toBe(0);
    expect((await apiFetch(app.url, '/api/me', { cookie })).status).toBe(401);

    expect((await post(`/api/admin/users/${user.id}/disabled`, { disabled: false, reason: 'разобрались' })).status).toBe(200);
    expect(await db().value('SELECT disabled FROM users WHERE id = ?', [user.id])).toBe(0);
    expect((await listAudit(db(), { targetId: user.id })).map((a) => a.action)).toEqual(['user.enable', 'user.disable']);

    const self = await post(`/api/admin/users/${admin.user.id}/disabled`, { disabled: true, reason: 'тест' });
    expect(((await self.json()) as { code: string }).code).toBe('ADMIN_CANNOT_DISABLE_SELF');
  });

  it('answers 404 for an unknown user', async () => {
    const res = await post('/api/admin/users/usr_nobody/balance', { delta: 1, reason: 'нет такого' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'USER_NOT_FOUND' });
    expect((await apiFetch(app.url, '/admin/users/usr_nobody', { cookie: admin.cookie })).status).toBe(404);
  });

  it('finds users by email or name, sorted', async () => {
    await createSignedInUser(app.ctx, { email: 'anna.k@shop.ru', name: 'Анна Котова', balance: 40 });
    await createSignedInUser(app.ctx, { email: 'boris@shop.ru', name: 'Борис', balance: 5 });
    const byName = await (await apiFetch(app.url, '/admin/users?q=%D0%B0%D0%BD%D0%BD%D0%B0', { cookie: admin.cookie })).text();
    expect(byName).toContain('anna.k@shop.ru');
    expect(byName).not.toContain('boris@shop.ru');
    const sorted = await (await apiFetch(app.url, '/admin/users?q=shop.ru&sort=balance&dir=asc', { cookie: admin.cookie })).text();
    expect(sorted.indexOf('boris@shop.ru')).toBeLessThan(sorted.indexOf('anna.k@shop.ru'));
    // `%` is a literal character, not a wildcard.
    const literal = await (await apiFetch(app.url, '/admin/users?q=%25', { cookie: admin.cookie })).text();
    expect(literal).not.toContain('anna.k@shop.ru');
  });

  it('shows the user page with balance, ledger and subscription', async () => {
    const { user } = await createSignedInUser(app.ctx, { email: 'page@example.ru', balance: 9 });
    const html = await (await apiFetch(app.url, `/admin/users/${user.id}`, { cookie: admin.cookie })).text();
    expect(html).toContain('page@example.ru');
    expect(html).toMatch(/data-testid="user-balance"[^>]*>9</);
    expect(html).toContain(`trial:${user.id}`);
  });

  it('admin:grant before the first sign-in makes that sign-in an admin, once', async () => {
    const now = app.ctx.clock.now();
    expect(await grantAdminByEmail(db(), { email: 'New.Boss@Example.ru', actor: cliActor, now })).toBe('pending');
    const identity = (subject: string, email: string) => ({ provider: 'oidc', subject, email, name: null, picture: null });
    const policy = { now, trialCredits: 3, adminEmails: [] };
    const { user } = await upsertUserFromIdentity(db(), identity('sub-new-boss', 'new.boss@example.ru'), policy);
    expect(user.role).toBe('admin');
    expect(await revokeAdminByEmail(db(), { email: 'new.boss@example.ru', actor: cliActor, now })).toBe('revoked');
    // The grant was used up: signing in again does not restore the role.
    expect((await upsertUserFromIdentity(db(), identity('sub-new-boss', 'new.boss@example.ru'), policy)).user.role).toBe('user');
    expect((await listAudit(db(), { actor: 'cli' })).map((a) => a.action)).toEqual(['user.revoke_admin', 'admin.grant_pending']);
  });
});

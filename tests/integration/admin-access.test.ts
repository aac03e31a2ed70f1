import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createSignedInUser, seedAdminTargets, type SignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { discoverRoutes, type Route } from '../helpers/routes.ts';

/**
 * Every admin page and every admin API, found by walking src/pages, so a route added
 * later without a guard fails here: anonymous → sign-in redirect (pages) or 401 (APIs),
 * a plain user → 403, an admin → served.
 */

describe('admin access control', () => {
  let app: TestApp;
  let user: SignedInUser;
  let admin: SignedInUser;
  let routes: Route[];

  beforeAll(async () => {
    app = await startApp();
    user = await createSignedInUser(app.ctx, { email: 'seller@example.ru' });
    admin = await createSignedInUser(app.ctx, { email: 'boss@example.ru', role: 'admin' });
    await seedAdminTargets(app.ctx, user.user.id, { generationId: 'gen_access', paymentId: 'pay_access' });
    routes = discoverRoutes({ users: user.user.id, generations: 'gen_access', payments: 'pay_access' }).filter(
      (route) => route.admin && route.file !== 'admin/forbidden.astro', // the 403 page itself
    );
  });
  afterAll(async () => {
    await app.stop();
  });

  const call = (route: Route, cookie?: string) =>
    apiFetch(app.url, route.url, route.method === 'POST' ? { cookie, method: 'POST', json: {} } : { cookie });

  it('finds the admin pages and APIs', () => {
    const files = routes.map((r) => r.file);
    expect(files).toEqual(
      expect.arrayContaining([
        'admin/index.astro',
        'admin/users/index.astro',
        'admin/users/[id].astro',
        'admin/payments.astro',
        'admin/alerts.astro',
        'admin/audit.astro',
        'api/admin/dashboard.ts',
        'api/admin/users/[id]/balance.ts',
        'api/admin/alerts/test.ts',
      ]),
    );
  });

  it('sends signed-out visitors to sign-in (pages) or answers 401 (APIs)', async () => {
    for (const route of routes) {
      const res = await call(route);
      if (route.kind === 'page') {
        expect(res.status, route.url).toBe(302);
        expect(res.headers.get('location'), route.url).toBe(`/login?next=${encodeURIComponent(route.url)}`);
      } else {
        expect(res.status, `${route.method} ${route.url}`).toBe(401);
        expect(await res.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED' });
      }
    }
  });

  it('answers 403 to signed-in users without the admin role, revealing nothing', async () => {
    for (const route of routes) {
      const res = await call(route, user.cookie);
      expect(res.status, `${route.method} ${route.url}`).toBe(403);
      const text = await res.text();
      if (route.kind === 'api') expect(JSON.parse(text)).toMatchObject({ code: 'ADMIN_ONLY' });
      else expect(text).toContain('Нет доступа');
      // Nothing of the admin area: other people's emails, generations, payments.
      for (const secret of ['boss@example.ru', 'gen_access', 'pay_access']) expect(text).not.toContain(secret);
    }
    // Nothing was changed or audited on their behalf.
    expect(await app.ctx.db.value('SELECT COUNT(*) FROM admin_audit')).toBe(0);
  });

  it('serves every admin page to an admin', async () => {
    for (const route of routes.filter((r) => r.kind === 'page' || r.method === 'GET')) {
      const res = await call(route, admin.cookie);
      expect(res.status, route.url).toBe(200);
    }
  });

  it('lets an admin reach every action (input errors are theirs, not access errors)', async () => {
    for (const route of routes.filter((r) => r.method === 'POST')) {
      const res = await call(route, admin.cookie);
      expect([401, 403], `${route.url} answered ${res.status}`).not.toContain(res.status);
    }
  });

  it('refuses an admin action posted from another site', async () => {
    const res = await apiFetch(app.url, `/api/admin/users/${user.user.id}/balance`, {
      cookie: admin.cookie,
      json: { delta: 5, reason: 'cross-site attempt' },
      headers: { origin: 'https://evil.example' },
      sameOrigin: false,
    });
    expect(res.status).toBe(403);
    expect(await app.ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [user.user.id])).toBe(user.user.balance);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createSignedInUser, seedAdminTargets, type SignedInUser } from '../helpers/users.ts';
import { discoverRoutes, type Route } from '../helpers/routes.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { BASE_SECURITY_HEADERS } from '../../src/lib/http/security.ts';

/**
 * The edge decides access from the route that runs, on one spelling of each path. Every
 * admin page and API (found by walking src/pages) is requested under other spellings of
 * its path, anonymously and as a plain user: none may answer with admin content, and no
 * state-changing spelling reaches a handler.
 */

const SECRETS = ['boss@example.ru', 'other-seller@example.ru', 'gen_edge', 'pay_edge'];

/** Other spellings of a path; each would reach the same page if anything trusted the raw string. */
function spellings(url: string): string[] {
  const rest = url.slice(1);
  return [
    `/${url}`, // //admin/users
    `//${url}`, // ///admin/users
    `/.${url}`, // /./admin/users
    `/zz/..${url}`, // /zz/../admin/users
    `/%2F${rest}`, // /%2Fadmin/users
    `/%2f${rest}`,
    `/%2e${url}`, // /%2e/admin/users
    `/%2E%2E${url}`,
    `/%${rest.charCodeAt(0).toString(16)}${rest.slice(1)}`, // /%61dmin/users
    `/\\${rest}`,
    `${url.replace(/\/([^/]+)$/, '//$1')}`, // /admin//users
    url.toUpperCase(),
    `/${rest[0]!.toUpperCase()}${rest.slice(1)}`,
  ].filter((spelled) => spelled !== url);
}

let app: TestApp;
let user: SignedInUser;
let admin: SignedInUser;
let adminRoutes: Route[];

beforeAll(async () => {
  app = await startApp();
  user = await createSignedInUser(app.ctx, { email: 'seller@example.ru' });
  admin = await createSignedInUser(app.ctx, { email: 'boss@example.ru', role: 'admin' });
  const other = await createSignedInUser(app.ctx, { email: 'other-seller@example.ru' });
  await seedAdminTargets(app.ctx, other.user.id, { generationId: 'gen_edge', paymentId: 'pay_edge' });
  adminRoutes = discoverRoutes({ users: other.user.id, generations: 'gen_edge', payments: 'pay_edge' }).filter((r) => r.admin);
});
afterAll(async () => {
  await app.stop();
});

describe('admin routes under other spellings of their path', () => {
  it('finds the admin pages and APIs to try', () => {
    expect(adminRoutes.filter((r) => r.kind === 'page').length).toBeGreaterThanOrEqual(8);
    expect(adminRoutes.some((r) => r.method === 'POST')).toBe(true);
  });

  it('never shows admin content to a visitor or a plain user, whatever the spelling', async () => {
    let tried = 0;
    for (const route of adminRoutes) {
      for (const spelled of spellings(route.url)) {
        for (const cookie of [undefined, user.cookie]) {
          const res = await rawRequest(app.url, {
            method: route.method,
            path: spelled,
            headers: { ...(cookie ? { cookie } : {}), ...(route.method === 'POST' ? { origin: app.url, 'content-type': 'application/json' } : {}) },
            body: route.method === 'POST' ? '{}' : undefined,
          });
          tried += 1;
          const where = `${route.method} ${spelled} (${cookie ? 'user' : 'anonymous'}) → ${res.status}`;
          expect(res.status, where).not.toBe(200);
          // (An id the visitor typed may be echoed back, e.g. in the 404 page's sign-in link.)
          const secrets = SECRETS.filter((secret) => !spelled.toLowerCase().includes(secret.toLowerCase()));
          for (const secret of secrets) expect(res.body, where).not.toContain(secret);
          if (res.status === 308) {
            // Only a redirect to the one spelling, which then meets the usual guards.
            expect(route.method, where).toBe('GET');
            const location = res.headers.location!;
            expect(location.toLowerCase(), where).toBe(route.url.toLowerCase());
            const followed = await rawRequest(app.url, { path: location, headers: cookie ? { cookie } : {} });
            expect([302, 401, 403, 404], `${where} then ${location} → ${followed.status}`).toContain(followed.status);
            for (const secret of secrets) expect(followed.body, where).not.toContain(secret);
          } else {
            expect([302, 400, 401, 403, 404], where).toContain(res.status);
          }
        }
      }
    }
    expect(tried).toBeGreaterThan(adminRoutes.length * 20);
    // Nothing was changed or audited on anyone's behalf.
    expect(await app.ctx.db.value('SELECT COUNT(*) FROM admin_audit')).toBe(0);
  });

  it('still serves the admin the one spelling, with a trailing slash too', async () => {
    for (const path of ['/admin/users', '/admin/users/']) {
      const res = await rawRequest(app.url, { path, headers: { cookie: admin.cookie } });
      expect(res.status, path).toBe(200);
      expect(res.body).toContain('other-seller@example.ru');
    }
    const anonymous = await rawRequest(app.url, { path: '/admin/users/' });
    expect(anonymous.status).toBe(302);
    const asUser = await rawRequest(app.url, { path: '/admin/users/', headers: { cookie: user.cookie } });
    expect(asUser.status).toBe(403);
  });

  it('keeps a second guard inside every admin page and API', async () => {
    const fs = await import('node:fs');
    for (const route of adminRoutes) {
      if (route.file === 'admin/forbidden.astro') continue;
      const source = fs.readFileSync(`src/pages/${route.file}`, 'utf8');
      const guarded = route.kind === 'page' ? /guardAdminPage\(Astro\)/.test(source) : /adminAction\(|adminRead\(|requireAdmin\(/.test(source);
      expect(guarded, route.file).toBe(true);
    }
  });
});

describe('one spelling per path', () => {
  it('redirects GET and HEAD to the canonical path, keeping the query', async () => {
    for (const [path, location] of [
      ['//app?x=1', '/app?x=1'],
      ['/./billing', '/billing'],
      ['/legal/../app', '/app'],
      ['/%61pp', '/app'],
      ['///', '/'],
    ]) {
      const res = await rawRequest(app.url, { path: path! });
      expect(res.status, path).toBe(308);
      expect(res.headers.location, path).toBe(location);
      const head = await rawRequest(app.url, { method: 'HEAD', path: path! });
      expect(head.status, path).toBe(308);
    }
  });

  it('answers 404 to other methods under another spelling, before any handler runs', async () => {
    for (const path of ['//api/generate', '/./api/locale', '/x/../api/payments/yookassa/create', '/%61pi/generate']) {
      const res = await rawRequest(app.url, { method: 'POST', path, headers: { origin: app.url, cookie: user.cookie, 'content-type': 'application/json' }, body: '{"locale":"en"}' });
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ success: false, code: 'NOT_FOUND' });
    }
  });

  it('refuses broken percent-encoding, encoded slashes and backslashes with 400 and the usual headers', async () => {
    for (const path of ['/api/admin/users/%FF/balance', '/%2Fadmin', '/admin%2Fusers', '/%5Cadmin', '/a\\b', '/%zz', '/x%00y', '/%C0%AF']) {
      const res = await rawRequest(app.url, { path });
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ success: false, code: 'BAD_PATH' });
      expect(JSON.parse(res.body).error).toMatch(/адрес/);
      for (const [name, value] of Object.entries(BASE_SECURITY_HEADERS)) expect(res.headers[name.toLowerCase()], `${path} ${name}`).toBe(value);
    }
  });

  it('does not hand a node route another spelling of its path', async () => {
    // The video of someone else's generation: never streamed under //, /./ or /%61pi.
    for (const path of ['//api/video/gen_edge', '/./api/video/gen_edge', '//healthz', '//metrics']) {
      const res = await rawRequest(app.url, { path, headers: { cookie: user.cookie } });
      expect(res.status, path).toBe(308);
    }
  });
});

describe('rate limits', () => {
  it('count every spelling that reaches a route against that route, and let no other spelling through', async () => {
    const seller = await createSignedInUser(app.ctx);
    const post = (path: string) =>
      rawRequest(app.url, { method: 'POST', path, headers: { origin: app.url, cookie: seller.cookie, 'content-type': 'application/json' }, body: '{}' });
    // Other spellings never reach the handler, so they cannot be used to get around its limit.
    for (const path of ['//api/generate', '///api/generate', '/./api/generate', '/a/../api/generate', '/%2Fapi/generate', '/%61pi/generate']) {
      expect([400, 404], path).toContain((await post(path)).status);
    }
    // The two spellings Astro serves (with and without the trailing slash) share one allowance of 10 a minute.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) statuses.push((await post(i % 2 ? '/api/generate/' : '/api/generate')).status);
    expect(statuses.slice(0, 10).every((status) => status === 400)).toBe(true); // no photo yet: the handler answered
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});

describe('methods and Astro internals', () => {
  it('answers unknown methods with 405, Allow and the security headers', async () => {
    for (const method of ['TRACE', 'PROPFIND', 'LOCK']) {
      const res = await rawRequest(app.url, { method, path: '/' });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(JSON.parse(res.body)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    }
  });

  it("turns Astro's image endpoint off", async () => {
    for (const path of ['/_image?href=/favicon.svg&w=10000&h=10000&f=png', '/_image', '/_image/']) {
      const res = await rawRequest(app.url, { path });
      expect(res.status, path).toBe(404);
    }
  });

  it('sends HTML with its charset', async () => {
    const res = await rawRequest(app.url, { path: '/' });
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  });
});

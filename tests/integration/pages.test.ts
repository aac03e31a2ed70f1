import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';

/** Server-rendered pages: guards, prices from config, language, legal texts, the ledger API. */
describe('pages', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { TARIFF_BASIC_PRICE_RUB: '1234', TARIFF_BASIC_CREDITS: '60', COST_PROMPT_10S: '3' } });
  });
  afterAll(async () => {
    await app.stop();
  });

  const page = (path: string, cookie?: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${path}`, { headers: { ...headers, ...(cookie ? { cookie } : {}) }, redirect: 'manual' });

  it('shows visitors the landing page in Russian with prices from config', async () => {
    const res = await page('/');
    expect(res.status).toBe(200);
    const html = (await res.text()).replace(/\s/g, ' ');
    // The number of templates comes from the catalogue, not from the spec's "17".
    expect(html).toContain('один из 16 проверенных рекламных шаблонов');
    expect(html).toContain('<html lang="ru"');
    expect(html).toContain('Рекламный ролик из фото товара');
    expect(html).toContain('1 234 ₽');
    expect(html).toContain('60 кредитов');
    expect(html).toContain('10 секунд — 3 кредита');
    expect(html).toContain('href="/login?next=%2Fapp"');
    expect(html).toContain('href="/legal/offer"');
  });

  it('ends every page with </html>: page scripts sit inside the body', async () => {
    // A <script> after </html> still runs, but it is invalid HTML; Astro renders a component's
    // script where it is written, so layouts and pages keep theirs inside the layout.
    const { cookie } = await createSignedInUser(app.ctx);
    const pages: Array<[string, string | undefined]> = [['/', undefined], ['/login', undefined], ['/app', cookie], ['/billing', cookie], ['/legal/offer', cookie]];
    for (const [path, asUser] of pages) {
      const res = await page(path, asUser);
      expect(res.status, path).toBe(200);
      const html = await res.text();
      expect(html.trimEnd(), path).toMatch(/<\/html>$/);
    }
  });

  it('states the price of a video without hedging', async () => {
    // COST_PROMPT_10S is 3 here and the template's 10 s costs 2: the lead points at each mode's price.
    const html = (await (await page('/')).text()).replace(/\s/g, ' ');
    expect(html).toContain('сколько стоит ролик в каждом режиме, указано выше');
    expect(html).not.toContain('обычно');
    const plain = await startApp();
    try {
      const same = (await (await fetch(`${plain.url}/`)).text()).replace(/\s/g, ' ');
      expect(same).toContain('ролик на 6 секунд стоит 1 кредит, на 10 секунд — 2 кредита.');
    } finally {
      await plain.stop();
    }
  });

  it('promises an e-mailed receipt only when receipts are switched on', async () => {
    const { cookie, user } = await createSignedInUser(app.ctx);
    const note = (html: string) => /data-testid="payment-note">([^<]*)</.exec(html)?.[1]?.replace(/\s+/g, ' ').trim();
    const off = await (await page('/billing', cookie)).text();
    expect(note(off)).toBe('Оплата картой или через СБП на защищённой странице ЮKassa. Данные карты нам не передаются.');
    const withReceipts = await startApp({ env: { YOOKASSA_RECEIPTS_ENABLED: 'true' } });
    try {
      const buyer = await createSignedInUser(withReceipts.ctx, { email: 'buyer@example.ru' });
      const on = await (await fetch(`${withReceipts.url}/billing`, { headers: { cookie: buyer.cookie } })).text();
      expect(note(on)).toContain('Данные карты нам не передаются. Чек придёт на почту buyer@example.ru.');
    } finally {
      await withReceipts.stop();
    }
    expect(user.email).not.toBe('buyer@example.ru');
  });

  it('tells new users on the sign-in page how many trial credits they get, in agreement with the number', async () => {
    const html = (await (await page('/login')).text()).replace(/\s/g, ' ');
    expect(html).toContain('Новым пользователям — 3 пробных кредита в подарок.');
  });

  it('sends a signed-in user from the landing page straight to the app', async () => {
    const { cookie } = await createSignedInUser(app.ctx);
    const res = await page('/', cookie);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/app');
  });

  it.each([
    ['/app', '/login?next=%2Fapp'],
    ['/billing?payment=p_1', '/login?next=%2Fbilling%3Fpayment%3Dp_1'],
  ])('asks a visitor to sign in before %s and brings them back', async (path, location) => {
    const res = await page(path);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(location);
  });

  it('renders the app with the balance, costs and both modes', async () => {
    const { cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    const html = await (await page('/app', cookie)).text();
    expect(html).toContain('5 кредитов');
    expect(html).toContain('Рекламный шаблон');
    expect(html).toContain('Свободный сценарий');
    expect(html).toMatch(/id="app-boot"[^>]*>\{"balance":5,"costs":\{"prompt":\{"6":1,"10":3\}/);
  });

  it('renders billing with three tariffs and the offer next to every buy button', async () => {
    const { cookie } = await createSignedInUser(app.ctx);
    const html = (await (await page('/billing', cookie)).text()).replace(/\s/g, ' ');
    for (const plan of ['single', 'basic', 'professional']) expect(html).toContain(`data-buy="${plan}"`);
    expect(html).toContain('Купить за 1 234 ₽');
    expect(html.match(/href="\/legal\/offer" class="link"/g)).toHaveLength(3);
  });

  it('speaks English when the language cookie says so', async () => {
    const { cookie } = await createSignedInUser(app.ctx, { balance: 1 });
    const html = await (await page('/app', `${cookie}; beem_lang=en`)).text();
    expect(html).toContain('<html lang="en"');
    expect(html).toContain('1 credit');
    expect(html).toContain('Create video');
  });

  it.each(['offer', 'privacy', 'refund', 'contacts'])('serves the legal page /legal/%s to everyone', async (slug) => {
    const res = await page(`/legal/${slug}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-placeholder>{EMAIL}</mark>');
  });

  it('answers an unknown page with a friendly 404', async () => {
    for (const path of ['/legal/nothing', '/no-such-page']) {
      const res = await page(path);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('Страница не найдена');
    }
    const api = await page('/api/no-such-endpoint');
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });

  it('lists only the signed-in user’s own credit history, trial first', async () => {
    const me = await createSignedInUser(app.ctx, { balance: 7 });
    await createSignedInUser(app.ctx, { balance: 9 });
    const res = await apiFetch(app.url, '/api/ledger', { cookie: me.cookie });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { balance: number; entries: Array<{ kind: string; delta: number; balanceAfter: number }> };
    expect(body.balance).toBe(7);
    expect(body.entries.map((e) => [e.kind, e.delta, e.balanceAfter])).toEqual([
      ['admin_adjustment', 4, 7],
      ['trial', 3, 3],
    ]);
  });

  it('refuses the ledger without a session, in words', async () => {
    const res = await apiFetch(app.url, '/api/ledger');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED', error: 'Войдите в аккаунт, чтобы продолжить.' });
  });
});

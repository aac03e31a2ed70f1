import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ui } from '../../src/lib/i18n/messages/ui.ts';
import { common } from '../../src/lib/i18n/messages/common.ts';
import { auth } from '../../src/lib/i18n/messages/auth.ts';
import { billing } from '../../src/lib/i18n/messages/billing.ts';
import { generation } from '../../src/lib/i18n/messages/generation.ts';
import { video } from '../../src/lib/i18n/messages/video.ts';
import { t } from '../../src/lib/i18n/index.ts';
import { tn } from '../../src/lib/i18n/plural.ts';
import { clientMessages, clientMessagesJson, scriptJson } from '../../src/lib/i18n/client.ts';
import { createTranslator } from '../../src/scripts/translator.ts';
import { formatElapsed, formatRubles, pricePerCredit, toMillis } from '../../src/lib/ui/format.ts';
import { LEGAL_SLUGS } from '../../src/lib/ui/legal.ts';
import { expectBilingual, pluralFamily } from '../helpers/phrasebook.ts';
import { findPlaceholders, markPlaceholders } from '../../src/lib/ui/placeholders.ts';


describe('interface text', () => {
  it('has every phrase in both Russian and English, with the same placeholders', () => {
    expectBilingual(ui);
  });

  it('gives Russian counted phrases all their forms and English one and other', () => {
    const plural = Object.keys(ui.ru).filter((k) => k.endsWith('.many')).map(pluralFamily);
    expect(plural.length).toBeGreaterThan(0);
    for (const key of plural) {
      for (const form of ['one', 'few', 'many', 'other']) expect(ui.ru[`${key}.${form}`], `${key}.${form}`).toBeTruthy();
      for (const form of ['one', 'other']) expect(ui.en[`${key}.${form}`], `${key}.${form}`).toBeTruthy();
    }
  });

  it.each([
    [1, '1 кредит'],
    [3, '3 кредита'],
    [5, '5 кредитов'],
    [11, '11 кредитов'],
    [21, '21 кредит'],
    [50, '50 кредитов'],
    [200, '200 кредитов'],
  ])('counts %i as «%s»', (count, text) => {
    expect(tn('ru', 'ui.credits', count)).toBe(text);
    expect(createTranslator('ru', ui.ru).tn('ui.credits', count)).toBe(text);
  });

  it('counts in English too', () => {
    expect(tn('en', 'ui.credits', 1)).toBe('1 credit');
    expect(createTranslator('en', ui.en).tn('ui.credits', 50)).toBe('50 credits');
  });

  it('hands a page script only the messages it asked for, in its language', () => {
    const messages = clientMessages('en', ['ui.billing.'], ['INSUFFICIENT_BALANCE']);
    expect(messages['ui.billing.title']).toBe('Balance & payments');
    expect(messages['ui.app.title']).toBeUndefined();
    expect(messages['errors.INSUFFICIENT_BALANCE']).toBe(t('en', 'errors.INSUFFICIENT_BALANCE'));
  });

  it('serialises a page’s messages once per language and asks, never mixing languages', () => {
    const english = clientMessagesJson('en', ['ui.billing.'], ['INTERNAL']);
    const russian = clientMessagesJson('ru', ['ui.billing.'], ['INTERNAL']);
    expect(JSON.parse(english)).toEqual({ locale: 'en', messages: clientMessages('en', ['ui.billing.'], ['INTERNAL']) });
    expect(JSON.parse(russian)).toEqual({ locale: 'ru', messages: clientMessages('ru', ['ui.billing.'], ['INTERNAL']) });
    expect(clientMessagesJson('en', ['ui.billing.'], ['INTERNAL'])).toBe(english);
    expect(JSON.parse(clientMessagesJson('en', ['ui.app.'])).messages['ui.billing.title']).toBeUndefined();
  });

  it('fills placeholders and leaves plain messages as they are', () => {
    expect(t('en', 'ui.billing.title')).toBe('Balance & payments');
    expect(t('en', 'ui.billing.title', { count: 3 })).toBe('Balance & payments');
    expect(tn('ru', 'ui.credits', 21)).toBe('21 кредит');
  });

  it('embeds JSON in a page without letting it close the script element', () => {
    const json = scriptJson({ text: '</script><script>alert(1)</script>' });
    expect(json).not.toContain('</script>');
    expect(JSON.parse(json)).toEqual({ text: '</script><script>alert(1)</script>' });
  });
});

describe('formatting', () => {
  it('writes rubles the Russian way, kopecks only when there are any', () => {
    expect(formatRubles(149_000, 'ru').replace(/\s/g, ' ')).toBe('1 490 ₽');
    expect(formatRubles(99_050, 'ru').replace(/\s/g, ' ')).toBe('990,50 ₽');
    expect(formatRubles(149_000, 'en')).toContain('1,490');
  });

  it('rounds the price of a credit to whole rubles', () => {
    expect(pricePerCredit(149_000, 50)).toBe(3_000); // 29.80 ₽ → 30 ₽
    expect(pricePerCredit(39_000, 10)).toBe(3_900);
  });

  it.each([
    [0, '0:00'],
    [7.9, '0:07'],
    [125, '2:05'],
    [3723, '1:02:03'],
    [-5, '0:00'],
  ])('shows %f seconds as %s', (seconds, text) => {
    expect(formatElapsed(seconds)).toBe(text);
  });

  it('reads timestamps in seconds or milliseconds', () => {
    expect(toMillis(1_737_014_400)).toBe(1_737_014_400_000);
    expect(toMillis(1_737_014_400_000)).toBe(1_737_014_400_000);
  });
});

describe('legal texts', () => {
  it.each(LEGAL_SLUGS)('content/legal/%s.md exists, has a title and only the documented placeholders', (slug) => {
    const text = fs.readFileSync(`content/legal/${slug}.md`, 'utf8');
    expect(text).toMatch(/^---\ntitle: .+\ntitleEn: .+\n/);
    const allowed = ['COMPANY_NAME', 'INN', 'OGRN', 'ADDRESS', 'EMAIL', 'PHONE'];
    expect(findPlaceholders(text).filter((name) => !allowed.includes(name))).toEqual([]);
  });

  it('marks unfilled placeholders so an operator notices them', () => {
    expect(markPlaceholders('<p>ИНН {INN}</p>')).toContain('<mark');
    expect(markPlaceholders('<p>ИНН 7701234567</p>')).toBe('<p>ИНН 7701234567</p>');
  });
});

describe('the copy users read', () => {
  // Everything but the admin set: the operator and admin pages keep the vendor's name.
  const userFacing = { common, auth, billing, generation, ui, video };
  const entries = (locale: 'ru' | 'en') =>
    Object.entries(userFacing).flatMap(([set, messages]) => Object.entries(messages[locale]).map(([key, text]) => ({ set, key, text })));

  it('calls the model «нейросеть», never by its vendor’s name', () => {
    for (const locale of ['ru', 'en'] as const) {
      expect(entries(locale).filter(({ text }) => /minimax|hailuo/i.test(text)).map(({ key }) => `${locale} ${key}`)).toEqual([]);
    }
    expect(t('ru', 'generation.reason.OUTPUT_SENSITIVE')).toContain('нейросети');
  });

  it('calls the thing a «ролик», never a «генерация»', () => {
    expect(entries('ru').filter(({ text }) => /генерац/i.test(text)).map(({ key }) => key)).toEqual([]);
    expect(entries('en').filter(({ text }) => /\bgenerations?\b/i.test(text)).map(({ key }) => key)).toEqual([]);
    expect(t('ru', 'ui.history.title')).toBe('Мои ролики');
  });

  it('writes seconds as «сек», not the bare «с»', () => {
    expect(entries('ru').filter(({ text }) => /\{\w+\}\s+с(?![а-яё])/.test(text)).map(({ key }) => key)).toEqual([]);
    expect(t('ru', 'ui.app.seconds', { count: 6 })).toBe('6 сек');
  });

  it.each([
    [1, '1 пробный кредит'],
    [3, '3 пробных кредита'],
    [5, '5 пробных кредитов'],
    [21, '21 пробный кредит'],
  ])('agrees the trial credits with the number: %i → «%s»', (count, text) => {
    expect(tn('ru', 'login.trial', count)).toBe(text);
    expect(t('ru', 'login.lead', { trial: tn('ru', 'login.trial', count) })).toContain(`${text} в подарок`);
  });

  it('names the tariffs in Russian for Russian readers', () => {
    for (const id of ['single', 'basic', 'professional']) {
      expect(t('ru', `ui.tariff.${id}`)).toMatch(/^[А-ЯЁа-яё ]+$/);
      expect(t('ru', `tariffs.${id}.name`)).toMatch(/^[А-ЯЁа-яё ]+$/);
    }
  });

  it('does not hedge a fixed price, and addresses everyone alike', () => {
    expect(entries('ru').filter(({ text }) => /обычно стоит|Вы следующий/.test(text)).map(({ key }) => key)).toEqual([]);
    expect(t('ru', 'ui.stage.queue.next')).toContain('Ваш ролик — следующий');
  });

  it('promises a receipt by e-mail only in the sentence shown when receipts are on', () => {
    expect(entries('ru').filter(({ key, text }) => /[Чч]ек /.test(text) && key !== 'ui.billing.receipt').map(({ key }) => key)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { TEMPLATE_CATALOG, describeCatalogForModel, findTemplate } from '../../src/lib/prompt/template-catalog.ts';
import { writeTemplateEnglish } from '../../src/lib/prompt/english-writer.ts';
import {
  DEFAULT_TEMPLATE_ID,
  MAX_TEXT_INPUT_CHARS,
  TEMPLATE_IDS,
  chooseTemplateByKeywords,
  fillTextInputs,
  normalizeTextInputs,
} from '../../src/lib/prompt/template-rules.ts';

describe('template catalogue', () => {
  it('holds the 16 confirmed international templates with unique ids', () => {
    expect(TEMPLATE_CATALOG).toHaveLength(16);
    expect(new Set(TEMPLATE_CATALOG.map((t) => t.id)).size).toBe(16);
    for (const t of TEMPLATE_CATALOG) expect(t.id).toMatch(/^\d{18}$/);
  });

  it('describes every template in both languages with its inputs', () => {
    for (const t of TEMPLATE_CATALOG) {
      expect(t.name.en && t.name.ru && t.makes.en && t.makes.ru).toBeTruthy();
      expect(t.mediaInputs + t.textInputs).toBeGreaterThan(0);
      expect(t.textInputHint === null).toBe(t.textInputs === 0);
      expect(t.priceUsd).toBeGreaterThan(0);
    }
  });

  it('matches the reference table for the inputs of known templates', () => {
    expect(findTemplate(TEMPLATE_IDS.runForLife)).toMatchObject({ mediaInputs: 1, textInputs: 1 });
    expect(findTemplate(TEMPLATE_IDS.animeLifeSim)).toMatchObject({ mediaInputs: 0, textInputs: 1 });
    expect(findTemplate(TEMPLATE_IDS.ecommerceDisplay)).toMatchObject({ mediaInputs: 0, textInputs: 1 });
    expect(findTemplate(TEMPLATE_IDS.characterPresentation)).toMatchObject({ mediaInputs: 1, textInputs: 1 });
    expect(findTemplate(TEMPLATE_IDS.drinkfall)).toMatchObject({ mediaInputs: 1, textInputs: 0 });
  });

  it('every rule id is in the catalogue, and the model sees every template', () => {
    for (const id of Object.values(TEMPLATE_IDS)) expect(findTemplate(id)).not.toBeNull();
    const described = describeCatalogForModel();
    for (const t of TEMPLATE_CATALOG) expect(described).toContain(t.id);
  });

  it('does not know mainland-only or made-up ids', () => {
    expect(findTemplate('392753057216684038')).toBeNull();
    expect(findTemplate('999999999999999999')).toBeNull();
  });
});

const choices: Array<[string, string]> = [
  ['Апельсиновый сок льётся в стакан', TEMPLATE_IDS.drinkfall],
  ['Бутылка колы со льдом', TEMPLATE_IDS.drinkfall],
  ['Cold brew coffee bottle', TEMPLATE_IDS.drinkfall],
  ['Красное вечернее платье', TEMPLATE_IDS.femaleTryOn],
  ['Женская блузка из шёлка', TEMPLATE_IDS.femaleTryOn],
  ['Худи оверсайз', TEMPLATE_IDS.femaleTryOn],
  ['Мужская рубашка в клетку', TEMPLATE_IDS.maleTryOn],
  ['Мой кот убегает от льва', TEMPLATE_IDS.runForLife],
  ['Собака пилотирует самолёт', TEMPLATE_IDS.petPilot],
  ['Кот доставляет бургеры как курьер', TEMPLATE_IDS.deliveryPet],
  ['Щенок поднимает штангу', TEMPLATE_IDS.weightlifting],
  ['Спортивная машина превращается в робота', TEMPLATE_IDS.transformers],
  ['Надпись «SALE» золотыми буквами', TEMPLATE_IDS.artFonts],
  ['Аниме-сцена: девушка пьёт чай у окна', TEMPLATE_IDS.animeLifeSim],
  ['3D персонаж рассказывает о преимуществах крема', TEMPLATE_IDS.characterPresentation],
  ['Карточка товара для маркетплейса', TEMPLATE_IDS.ecommerceDisplay],
  ['Миниатюрные человечки собирают часы', TEMPLATE_IDS.miniatureSet],
  ['Девушка ныряет в бассейн', TEMPLATE_IDS.diving],
  ['Скалолаз на скалодроме', TEMPLATE_IDS.climbing],
  ['Кожаный кошелёк ручной работы', DEFAULT_TEMPLATE_ID],
];

describe('chooseTemplateByKeywords', () => {
  it.each(choices)('%s', (text, expected) => {
    const choice = chooseTemplateByKeywords(text);
    expect(choice.template.id, `${text} → ${choice.template.name.en} (${choice.matched.join(', ')})`).toBe(expected);
  });

  it('does not give a pet template when there is no pet', () => {
    expect(chooseTemplateByKeywords('Лев на упаковке печенья').template.id).not.toBe(TEMPLATE_IDS.runForLife);
  });
});

describe('fillTextInputs', () => {
  const template = (id: string) => findTemplate(id)!;

  it('gives templates without text inputs none', () => {
    expect(fillTextInputs(template(TEMPLATE_IDS.drinkfall), 'сок', writeTemplateEnglish('сок'))).toEqual([]);
  });

  it.each([
    ['Кот убегает от тигра', 'Tiger'],
    ['Собака спасается от медведя', 'Bear'],
    ['Кот бежит', 'Lion'],
  ])('names the beast for Run for Life: %s → %s', (text, beast) => {
    expect(fillTextInputs(template(TEMPLATE_IDS.runForLife), text, writeTemplateEnglish(text))).toEqual([beast]);
  });

  it('letters the quoted word for Art Fonts', () => {
    expect(fillTextInputs(template(TEMPLATE_IDS.artFonts), 'Надпись «Распродажа» с блёстками', writeTemplateEnglish('Надпись «Распродажа» с блёстками'))).toEqual(['Распродажа']);
  });

  it('describes the product in English for the display ad', () => {
    const [value] = fillTextInputs(template(TEMPLATE_IDS.ecommerceDisplay), 'Карточка товара', 'A red bottle of perfume.');
    expect(value).toBe('A red bottle of perfume.');
  });

  it('clips long inputs at a word', () => {
    const [value] = fillTextInputs(template(TEMPLATE_IDS.animeLifeSim), 'x', 'word '.repeat(200));
    expect(value!.length).toBeLessThanOrEqual(MAX_TEXT_INPUT_CHARS);
    expect(value!.endsWith('word')).toBe(true);
  });

  it('normalizes proposed inputs to exactly the template count', () => {
    expect(normalizeTextInputs(template(TEMPLATE_IDS.drinkfall), ['extra'], 'сок', writeTemplateEnglish('сок'))).toEqual([]);
    expect(normalizeTextInputs(template(TEMPLATE_IDS.runForLife), ['  Wolf  ', 'Bear'], 'кот', writeTemplateEnglish('кот'))).toEqual(['Wolf']);
    expect(normalizeTextInputs(template(TEMPLATE_IDS.runForLife), ['   '], 'кот убегает от тигра', writeTemplateEnglish('кот убегает от тигра'))).toEqual(['Tiger']);
  });
});

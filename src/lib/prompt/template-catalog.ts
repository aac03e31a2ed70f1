/**
 * MiniMax Video Agent templates Beem offers (reference/minimax-api.md §8.3).
 *
 * Why 16 and not the spec's 17: the international platform (api.minimax.io, the host Beem's
 * key works on) publishes exactly 16 templates, with ids and names that agree across the
 * official pricing table and an independent list. No source lists 17; the six extra
 * mainland ids only work on the mainland host. So the catalogue is the 16 confirmed ones.
 *
 * Inputs: rows 1–6 are from the official intro page, rows 7–16 from a community catalogue
 * citing the official FAQ. "media" is the user's photo; "text" is one `text_inputs` value.
 */

export interface TemplateDefinition {
  id: string;
  name: { en: string; ru: string };
  /** What the template makes, for the model and the admin page. */
  makes: { en: string; ru: string };
  /** How many images (`media_inputs`) it takes: the user's photo or nothing. */
  mediaInputs: 0 | 1;
  /** How many `text_inputs` it takes. */
  textInputs: 0 | 1;
  /** What the text input should say, in English (the model fills it from the user's text). */
  textInputHint: string | null;
  /** Published price per video, US dollars (reference §8.3). */
  priceUsd: number;
}

export const TEMPLATE_CATALOG: readonly TemplateDefinition[] = [
  {
    id: '392747428568649728',
    name: { en: 'Diving', ru: 'Прыжок в воду' },
    makes: { en: 'the subject in the photo does a perfect dive', ru: 'герой фото идеально прыгает в воду' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 0.4,
  },
  {
    id: '393769180141805569',
    name: { en: 'Run for Life', ru: 'Беги, спасайся' },
    makes: {
      en: 'the pet in the photo runs for its life from a wild beast',
      ru: 'питомец с фото убегает от дикого зверя',
    },
    mediaInputs: 1,
    textInputs: 1,
    textInputHint: 'one wild animal in English, e.g. "Lion"',
    priceUsd: 0.45,
  },
  {
    id: '397087679467597833',
    name: { en: 'Transformers', ru: 'Трансформер' },
    makes: { en: 'the car in the photo transforms into a mecha robot', ru: 'машина с фото превращается в робота' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 0.45,
  },
  {
    id: '393881433990066176',
    name: { en: 'Still rings routine', ru: 'Гимнастические кольца' },
    makes: { en: 'the subject performs a gymnastics still-rings routine', ru: 'герой фото выступает на кольцах' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 0.45,
  },
  {
    id: '393498001241890824',
    name: { en: 'Weightlifting', ru: 'Тяжёлая атлетика' },
    makes: { en: 'the pet in the photo performs a perfect lift', ru: 'питомец с фото поднимает штангу' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 0.45,
  },
  {
    id: '393488336655310850',
    name: { en: 'Climbing', ru: 'Скалолазание' },
    makes: { en: 'the subject completes a sport-climbing route', ru: 'герой фото проходит скалодром' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 0.4,
  },
  {
    id: '394514820878671878',
    name: { en: 'Anime Life Sim', ru: 'Аниме-жизнь' },
    makes: { en: 'a casual anime "life sim" clip of the described scene', ru: 'аниме-ролик по описанию сцены' },
    mediaInputs: 0,
    textInputs: 1,
    textInputHint: 'a short scene description in English',
    priceUsd: 1.5,
  },
  {
    id: '393879757702918151',
    name: { en: "McDonald's Delivery Pet", ru: 'Питомец-курьер' },
    makes: { en: "the pet in the photo works as a McDonald's delivery courier", ru: 'питомец с фото доставляет еду' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 1.1,
  },
  {
    id: '397017167949312007',
    name: { en: 'Pet Pilot', ru: 'Питомец-пилот' },
    makes: { en: 'the pet in the photo pilots a jet', ru: 'питомец с фото пилотирует самолёт' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 2.0,
  },
  {
    id: '394176968202485769',
    name: { en: 'Miniature Set Ad', ru: 'Реклама в миниатюре' },
    makes: {
      en: 'a miniature-set crafting ad around the product in the photo',
      ru: 'реклама товара с фото в миниатюрной декорации',
    },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 1.4,
  },
  {
    id: '393876118804459526',
    name: { en: 'Male Model Try-On Ad', ru: 'Примерка: мужская модель' },
    makes: { en: 'a male model wears the garment in the photo', ru: 'мужчина-модель в одежде с фото' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 1.0,
  },
  {
    id: '393866076583718914',
    name: { en: 'Female Model Try-On Ad', ru: 'Примерка: женская модель' },
    makes: { en: 'a female model wears the garment in the photo', ru: 'девушка-модель в одежде с фото' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 1.0,
  },
  {
    id: '394875727173492739',
    name: { en: 'Art Fonts', ru: 'Арт-надпись' },
    makes: { en: 'animated art lettering of a word with a decorative element', ru: 'анимированная надпись из слова' },
    mediaInputs: 0,
    textInputs: 1,
    textInputHint: 'the word to letter and a decorative element, e.g. "SALE, gold glitter"',
    priceUsd: 0.35,
  },
  {
    id: '394220989629177861',
    name: { en: 'Drinkfall', ru: 'Водопад напитка' },
    makes: { en: 'a "drink waterfall" shot of the beverage in the photo', ru: '«водопад» из напитка с фото' },
    mediaInputs: 1,
    textInputs: 0,
    textInputHint: null,
    priceUsd: 0.7,
  },
  {
    id: '393853165953970178',
    name: { en: 'E-commerce Display Ad', ru: 'Витрина интернет-магазина' },
    makes: { en: 'a minimalist display ad from a product description', ru: 'минималистичная реклама по описанию товара' },
    mediaInputs: 0,
    textInputs: 1,
    textInputHint: 'a one-sentence product description in English',
    priceUsd: 0.86,
  },
  {
    id: '401431836934868999',
    name: { en: '3D character product presentation', ru: '3D-персонаж представляет товар' },
    makes: {
      en: 'a 3D character presents the product in the photo with the given talking points',
      ru: '3D-персонаж рассказывает о товаре с фото',
    },
    mediaInputs: 1,
    textInputs: 1,
    textInputHint: 'two or three short selling points in English',
    priceUsd: 1.08,
  },
];

const BY_ID = new Map(TEMPLATE_CATALOG.map((t) => [t.id, t]));

export function findTemplate(id: string): TemplateDefinition | null {
  return BY_ID.get(id.trim()) ?? null;
}

export function requireTemplate(id: string): TemplateDefinition {
  const template = findTemplate(id);
  if (!template) throw new Error(`template ${id} is not in the catalogue`);
  return template;
}

/** The catalogue as the router's model sees it: one line per template. */
export function describeCatalogForModel(templates: readonly TemplateDefinition[] = TEMPLATE_CATALOG): string {
  return templates.map((t) => {
    const inputs = [
      t.mediaInputs ? 'uses the photo' : 'no photo',
      t.textInputs ? `one text input: ${t.textInputHint}` : 'no text input',
    ].join('; ');
    return `- ${t.id} "${t.name.en}": ${t.makes.en} (${inputs})`;
  }).join('\n');
}

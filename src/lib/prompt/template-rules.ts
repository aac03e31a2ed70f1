import { requireTemplate, type TemplateDefinition } from './template-catalog.ts';

/**
 * Keyword-based template choice: the template router's fallback, and the rules that
 * fill a template's text input from the user's words. Deterministic and explainable:
 * the template with the most keyword hits wins; ties go to the earlier rule.
 */

export const TEMPLATE_IDS = {
  diving: '392747428568649728',
  runForLife: '393769180141805569',
  transformers: '397087679467597833',
  stillRings: '393881433990066176',
  weightlifting: '393498001241890824',
  climbing: '393488336655310850',
  animeLifeSim: '394514820878671878',
  deliveryPet: '393879757702918151',
  petPilot: '397017167949312007',
  miniatureSet: '394176968202485769',
  maleTryOn: '393876118804459526',
  femaleTryOn: '393866076583718914',
  artFonts: '394875727173492739',
  drinkfall: '394220989629177861',
  ecommerceDisplay: '393853165953970178',
  characterPresentation: '401431836934868999',
} as const;

interface TemplateRule {
  templateId: string;
  keywords: RegExp;
  /** Some templates only make sense when another keyword group also matches (a pet). */
  requires?: RegExp;
  /** A named format ("аниме", "надпись") says more than the product it shows: it counts double. */
  weight?: number;
}

const word = (body: string) => new RegExp(`(?<!\\p{L})(?:${body})`, 'giu');

const PET = word(
  'питом\\p{L}*|кошк\\p{L}*|кот|кота|котом|котик\\p{L}*|котён\\p{L}*|котен\\p{L}*|собак\\p{L}*|пёс|пес|пса|щен\\p{L}*|хомяк\\p{L}*|попуга\\p{L}*|pet|pets|cat|cats|kitten\\p{L}*|dog|dogs|pupp\\p{L}*',
);
const CLOTHES =
  'одежд\\p{L}*|футболк\\p{L}*|худи|свитер\\p{L}*|свитшот\\p{L}*|куртк\\p{L}*|пальто|джинс\\p{L}*|брюк\\p{L}*|толстовк\\p{L}*|кофт\\p{L}*|garment\\p{L}*|clothing|clothes|t-shirt|hoodie|jacket|coat|jeans|sweater';

const RULES: TemplateRule[] = [
  { templateId: TEMPLATE_IDS.petPilot, keywords: word('пилот\\p{L}*|самол[её]т\\p{L}*|истребител\\p{L}*|лётчик|летчик|pilot\\p{L}*|jet|plane'), requires: PET },
  {
    templateId: TEMPLATE_IDS.deliveryPet,
    keywords: word('доставк\\p{L}*|доставля\\p{L}*|курьер\\p{L}*|макдональдс\\p{L}*|mcdonald\\p{L}*|бургер\\p{L}*|delivery|courier'),
    requires: PET,
  },
  { templateId: TEMPLATE_IDS.weightlifting, keywords: word('штанг\\p{L}*|тяжел\\p{L}*|тяжёл\\p{L}*|атлет\\p{L}*|weightlift\\p{L}*|barbell|lift\\p{L}*'), requires: PET },
  {
    templateId: TEMPLATE_IDS.runForLife,
    keywords: word('убега\\p{L}*|погон\\p{L}*|спаса\\p{L}*|бег\\p{L}*|лев|льв\\p{L}*|тигр\\p{L}*|волк\\p{L}*|медвед\\p{L}*|крокодил\\p{L}*|хищник\\p{L}*|runs?|chase\\p{L}*|lion|tiger|wolf|bear'),
    requires: PET,
  },
  { templateId: TEMPLATE_IDS.transformers, keywords: word('машин\\p{L}*|автомобил\\p{L}*|авто|тачк\\p{L}*|трансформ\\p{L}*|робот\\p{L}*|car|cars|vehicle|transform\\p{L}*|robot|mecha') },
  {
    templateId: TEMPLATE_IDS.drinkfall,
    keywords: word(
      'напит\\p{L}*|сок|сока|соком|вода|воды|водой|воду|газировк\\p{L}*|лимонад\\p{L}*|кол[аыу]|пиво|пива|вино|вина|коктейл\\p{L}*|смузи|кофе|чай|чая|молок\\p{L}*|энергетик\\p{L}*|бутыл\\p{L}*|банк[аиу]|drink\\p{L}*|juice|soda|beverage|bottle|wine|beer|coffee|tea|cocktail|lemonade',
    ),
  },
  { templateId: TEMPLATE_IDS.maleTryOn, keywords: word('мужск\\p{L}*|мужчин\\p{L}*|парен\\p{L}*|рубашк\\p{L}*|пиджак\\p{L}*|костюм\\p{L}*|галстук\\p{L}*|male|men\'s|man|shirt|suit|blazer'), requires: word(`${CLOTHES}|рубашк\\p{L}*|пиджак\\p{L}*|костюм\\p{L}*|shirt|suit|blazer`) },
  { templateId: TEMPLATE_IDS.femaleTryOn, keywords: word(`плать\\p{L}*|юбк\\p{L}*|блуз\\p{L}*|женск\\p{L}*|девушк\\p{L}*|dress\\p{L}*|skirt|blouse|female|women's|woman|${CLOTHES}`) },
  { templateId: TEMPLATE_IDS.diving, keywords: word('ныря\\p{L}*|прыж\\p{L}*\\s+в\\s+воду|прыга\\p{L}*\\s+в\\s+(?:воду|бассейн)|дайвинг\\p{L}*|бассейн\\p{L}*|div(?:e|es|ing)') },
  { templateId: TEMPLATE_IDS.climbing, keywords: word('скалолаз\\p{L}*|скалодром\\p{L}*|скал[аыу]|лезет|карабка\\p{L}*|climb\\p{L}*') },
  { templateId: TEMPLATE_IDS.stillRings, keywords: word('кольц[аех]\\s+гимнаст\\p{L}*|гимнаст\\p{L}*|still\\s+rings|gymnast\\p{L}*') },
  { templateId: TEMPLATE_IDS.animeLifeSim, keywords: word('аниме|анимэ|мульт\\p{L}*|anime|cartoon'), weight: 2 },
  { templateId: TEMPLATE_IDS.artFonts, keywords: word('надпис\\p{L}*|шрифт\\p{L}*|леттеринг\\p{L}*|логотип\\p{L}*|слово|буквы|lettering|font\\p{L}*|logo|typograph\\p{L}*'), weight: 2 },
  {
    templateId: TEMPLATE_IDS.characterPresentation,
    keywords: word('3d|персонаж\\p{L}*|маскот\\p{L}*|талисман\\p{L}*|рассказыва\\p{L}*|презент\\p{L}*|преимуществ\\p{L}*|character|mascot|present\\p{L}*'),
    weight: 2,
  },
  {
    templateId: TEMPLATE_IDS.ecommerceDisplay,
    keywords: word('маркетплейс\\p{L}*|интернет[- ]магазин\\p{L}*|витрин\\p{L}*|карточк\\p{L}*\\s+товар\\p{L}*|wildberries|ozon|озон|вайлдберриз|e-?commerce|marketplace|display\\s+ad'),
    weight: 2,
  },
  {
    templateId: TEMPLATE_IDS.miniatureSet,
    keywords: word('миниатюр\\p{L}*|макет\\p{L}*|диорам\\p{L}*|крошечн\\p{L}*|маленьк\\p{L}*\\s+(?:люд|человеч)\\p{L}*|miniature\\p{L}*|diorama|tiny'),
    weight: 2,
  },
];

/** A product photo with no clearer wish: the miniature-set ad shows any product and uses the photo. */
export const DEFAULT_TEMPLATE_ID = TEMPLATE_IDS.miniatureSet;

export interface TemplateMatch {
  template: TemplateDefinition;
  /** The keywords that decided it (empty for the default). */
  matched: string[];
}

/** The best keyword match; `onlyIds` limits the rules considered (one template's fit). */
export function chooseTemplateByKeywords(text: string, onlyIds?: readonly string[]): TemplateMatch {
  let best: { rule: TemplateRule; matched: string[]; score: number } | null = null;
  for (const r of RULES) {
    if (onlyIds && !onlyIds.includes(r.templateId)) continue;
    if (r.requires && !text.match(r.requires)) continue;
    const matched = [...text.matchAll(r.keywords)].map((m) => m[0].toLowerCase());
    const score = matched.length * (r.weight ?? 1);
    if (score > 0 && (!best || score > best.score)) best = { rule: r, matched, score };
  }
  if (!best) return { template: requireTemplate(DEFAULT_TEMPLATE_ID), matched: [] };
  return { template: requireTemplate(best.rule.templateId), matched: [...new Set(best.matched)] };
}

/** Longest text input accepted; MiniMax publishes no limit, examples are a few words. */
export const MAX_TEXT_INPUT_CHARS = 300;

const BEASTS: Array<[RegExp, string]> = [
  [word('лев|льв\\p{L}*|lion\\p{L}*'), 'Lion'],
  [word('тигр\\p{L}*|tiger\\p{L}*'), 'Tiger'],
  [word('волк\\p{L}*|wol(?:f|ves)'), 'Wolf'],
  [word('медвед\\p{L}*|bear\\p{L}*'), 'Bear'],
  [word('крокодил\\p{L}*|crocodile\\p{L}*'), 'Crocodile'],
  [word('акул\\p{L}*|shark\\p{L}*'), 'Shark'],
  [word('динозавр\\p{L}*|dinosaur\\p{L}*'), 'Dinosaur'],
];

/** Quoted words (« », " ", “ ”) are what the user wants written. */
function quotedText(text: string): string | null {
  const m = text.match(/[«"“„']([^«»"“”„']{1,60})[»"”']/u);
  return m?.[1]?.trim() || null;
}

function clip(text: string): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= MAX_TEXT_INPUT_CHARS) return clean;
  const cut = clean.slice(0, MAX_TEXT_INPUT_CHARS);
  const space = cut.lastIndexOf(' ');
  return (space > MAX_TEXT_INPUT_CHARS / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, '');
}

/**
 * The template's text inputs from the user's text and the English description (the
 * enhancer's, or its rules' when the model is down: there always is one). Always returns
 * exactly `template.textInputs` values.
 */
export function fillTextInputs(template: TemplateDefinition, userText: string, englishDescription: string): string[] {
  if (template.textInputs === 0) return [];
  switch (template.id) {
    case TEMPLATE_IDS.runForLife: {
      const beast = BEASTS.find(([pattern]) => userText.match(pattern) ?? englishDescription.match(pattern));
      return [beast?.[1] ?? 'Lion'];
    }
    case TEMPLATE_IDS.artFonts: {
      const quoted = quotedText(userText);
      return [clip(quoted ?? (userText.split(/\s+/).find((w) => w.length > 2) ?? userText))];
    }
    default:
      return [clip(englishDescription)];
  }
}

/**
 * Makes a model's (or anyone's) text inputs fit the template: trims, drops empty
 * values, clips long ones, fills what is missing from the rules, drops extras.
 */
export function normalizeTextInputs(
  template: TemplateDefinition,
  proposed: readonly string[],
  userText: string,
  englishDescription: string,
): string[] {
  const cleaned = proposed.map((v) => clip(v)).filter(Boolean).slice(0, template.textInputs);
  if (cleaned.length === template.textInputs) return cleaned;
  return fillTextInputs(template, userText, englishDescription);
}

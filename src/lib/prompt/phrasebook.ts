/**
 * A small Russian → English phrasebook for product-video requests: product nouns,
 * materials, colours, settings, moods and motions. The enhancer's fallback uses it
 * when the model is unreachable; words it does not know are kept as written, because
 * MiniMax understands many languages and a kept word is better than a lost one.
 */

type Entry = readonly [pattern: string, english: string];

// Order matters: longer phrases first so "крупный план" wins over "план".
// A stem ends in \p{L}* (any ending); an exact form ends at a letter boundary.
const ENTRIES: Entry[] = [
  // camera and motion phrases
  ['камера\\s+приближ\\p{L}*', 'the camera moves closer'],
  ['камера\\s+отдаля\\p{L}*', 'the camera pulls away'],
  ['крупн\\p{L}*\\s+план\\p{L}*', 'close-up'],
  ['общ\\p{L}*\\s+план\\p{L}*', 'wide shot'],
  ['панорам\\p{L}*\\s+влево', 'panning left'],
  ['панорам\\p{L}*\\s+вправо', 'panning right'],
  ['сверху\\s+вниз', 'from top to bottom'],
  ['снизу\\s+вверх', 'from bottom to top'],
  ['следу\\p{L}*\\s+за', 'follows'],
  ['мягк\\p{L}*\\s+свет\\p{L}*', 'soft light'],
  ['на\\s+фоне', 'against a backdrop of'],
  ['на\\s+столе', 'on a table'],
  ['в\\s+студии', 'in a studio'],
  ['капл\\p{L}*\\s+воды', 'water droplets'],
  ['камер\\p{L}*', 'camera'],
  ['приближа\\p{L}*', 'moves closer'],
  ['отдаля\\p{L}*', 'pulls away'],
  ['наезд\\p{L}*', 'push-in'],
  ['облёт\\p{L}*|облет\\p{L}*', 'orbit'],
  ['вращ\\p{L}*', 'rotates'],
  ['крут\\p{L}*ся', 'spins'],
  ['пада\\p{L}*', 'falls'],
  ['лет\\p{L}*т', 'flies'],
  ['подним\\p{L}*', 'rises'],
  ['опуска\\p{L}*', 'descends'],
  ['движ\\p{L}*', 'moves'],
  ['плыв\\p{L}*', 'floats'],
  ['стоит', 'stands'],
  ['лежит', 'lies'],
  ['сия\\p{L}*|блест\\p{L}*|сверка\\p{L}*', 'sparkles'],
  ['медленно', 'slowly'],
  ['медленн\\p{L}*', 'slow'],
  ['плавно', 'smoothly'],
  ['плавн\\p{L}*', 'smooth'],
  ['быстро', 'quickly'],
  ['влево|налево', 'to the left'],
  ['вправо|направо', 'to the right'],
  ['вокруг', 'around'],
  ['сверху', 'from above'],
  ['снизу', 'from below'],
  ['вниз', 'down'],
  ['вверх', 'up'],
  // products
  ['бутыл\\p{L}*', 'bottle'],
  ['флакон\\p{L}*', 'flacon'],
  ['духи|духов|духами|парфюм\\p{L}*', 'perfume'],
  ['крем\\p{L}*', 'cream'],
  ['помад\\p{L}*', 'lipstick'],
  ['косметик\\p{L}*', 'cosmetics'],
  ['шампун\\p{L}*', 'shampoo'],
  ['мыл\\p{L}*', 'soap'],
  ['свеч\\p{L}*', 'candle'],
  ['кроссовк\\p{L}*|кроссовок', 'sneakers'],
  ['обув\\p{L}*', 'shoes'],
  ['туфл\\p{L}*', 'shoes'],
  ['сумк\\p{L}*|сумочк\\p{L}*', 'bag'],
  ['рюкзак\\p{L}*', 'backpack'],
  ['часы|часов|часами', 'watch'],
  ['смартфон\\p{L}*|телефон\\p{L}*', 'smartphone'],
  ['наушник\\p{L}*', 'headphones'],
  ['ноутбук\\p{L}*', 'laptop'],
  ['кольц\\p{L}*', 'ring'],
  ['ожерель\\p{L}*', 'necklace'],
  ['серьг\\p{L}*|серёжк\\p{L}*|сережк\\p{L}*', 'earrings'],
  ['украшени\\p{L}*', 'jewelry'],
  ['плать\\p{L}*', 'dress'],
  ['футболк\\p{L}*', 't-shirt'],
  ['рубашк\\p{L}*', 'shirt'],
  ['куртк\\p{L}*', 'jacket'],
  ['джинс\\p{L}*', 'jeans'],
  ['худи', 'hoodie'],
  ['одежд\\p{L}*', 'clothing'],
  ['игрушк\\p{L}*', 'toy'],
  ['кофе', 'coffee'],
  ['чашк\\p{L}*', 'cup'],
  ['кружк\\p{L}*', 'mug'],
  ['чай|чая|чаем', 'tea'],
  ['сок|сока|соком', 'juice'],
  ['лимонад\\p{L}*', 'lemonade'],
  ['напит\\p{L}*', 'drink'],
  ['пиво|пива|пивом', 'beer'],
  ['вино|вина|вином', 'wine'],
  ['вода|воды|водой|воду', 'water'],
  ['мороженое|мороженого', 'ice cream'],
  ['шоколад\\p{L}*', 'chocolate'],
  ['торт\\p{L}*', 'cake'],
  ['конфет\\p{L}*', 'candy'],
  ['машин\\p{L}*|автомобил\\p{L}*', 'car'],
  ['кошк\\p{L}*|кот|кота|котом|котик\\p{L}*', 'cat'],
  ['собак\\p{L}*|пёс|пес|пса', 'dog'],
  ['щен\\p{L}*', 'puppy'],
  ['товар\\p{L}*|продукт\\p{L}*', 'product'],
  ['девушк\\p{L}*', 'young woman'],
  ['мужчин\\p{L}*', 'man'],
  ['модел\\p{L}*', 'model'],
  ['рук\\p{L}*', 'hand'],
  // materials, colours, settings, moods
  ['фон|фона|фоне|фоном|фоны', 'background'],
  ['стол\\p{L}*', 'table'],
  ['мрамор\\p{L}*', 'marble'],
  ['дерев\\p{L}*', 'wooden'],
  ['стекл\\p{L}*|стеклян\\p{L}*', 'glass'],
  ['пляж\\p{L}*', 'beach'],
  ['песо?к\\p{L}*', 'sand'],
  ['море|моря|морем|морск\\p{L}*', 'sea'],
  ['снег\\p{L}*', 'snow'],
  ['цветы|цветов|цветами|цветочн\\p{L}*', 'flowers'],
  ['листь\\p{L}*|листв\\p{L}*', 'leaves'],
  ['камн\\p{L}*|камен\\p{L}*', 'stones'],
  ['облак\\p{L}*', 'clouds'],
  ['небо|неба|небе|небом|небес\\p{L}*', 'sky'],
  ['закат\\p{L}*', 'sunset'],
  ['рассвет\\p{L}*', 'sunrise'],
  ['студи\\p{L}*', 'studio'],
  ['кухн\\p{L}*', 'kitchen'],
  ['улиц\\p{L}*', 'street'],
  ['город\\p{L}*', 'city'],
  ['лес|леса|лесу|лесной', 'forest'],
  ['свет\\p{L}*', 'light'],
  ['тен\\p{L}*', 'shadows'],
  ['блик\\p{L}*', 'highlights'],
  ['капл\\p{L}*', 'droplets'],
  ['брызг\\p{L}*', 'splashes'],
  ['дым\\p{L}*', 'smoke'],
  ['пар|пара|паром', 'steam'],
  ['лёд|лед|льд\\p{L}*', 'ice'],
  ['огон\\p{L}*|огн\\p{L}*', 'fire'],
  ['красн\\p{L}*', 'red'],
  ['син\\p{L}*', 'blue'],
  ['зелён\\p{L}*|зелен\\p{L}*', 'green'],
  ['чёрн\\p{L}*|черн\\p{L}*', 'black'],
  ['бел\\p{L}*', 'white'],
  ['золот\\p{L}*', 'golden'],
  ['серебр\\p{L}*', 'silver'],
  ['розов\\p{L}*', 'pink'],
  ['жёлт\\p{L}*|желт\\p{L}*', 'yellow'],
  ['прозрачн\\p{L}*', 'transparent'],
  ['элегантн\\p{L}*', 'elegant'],
  ['роскошн\\p{L}*', 'luxurious'],
  ['уютн\\p{L}*', 'cozy'],
  ['ярк\\p{L}*', 'bright'],
  ['тёмн\\p{L}*|темн\\p{L}*', 'dark'],
  ['нежн\\p{L}*', 'gentle'],
  ['стильн\\p{L}*', 'stylish'],
  ['минималист\\p{L}*', 'minimalist'],
  ['красив\\p{L}*', 'beautiful'],
  ['нов\\p{L}*', 'new'],
  ['убега\\p{L}*', 'runs away'],
  ['танцу\\p{L}*', 'dances'],
  ['улыба\\p{L}*', 'smiles'],
  ['вечеринк\\p{L}*', 'party'],
  ['праздни\\p{L}*', 'holiday'],
  ['летн\\p{L}*', 'summer'],
  ['зимн\\p{L}*', 'winter'],
  // small words
  ['потом|затем', 'then'],
  ['мой|моя|моё|мое|мои|моего|моей', 'my'],
  ['наш\\p{L}*', 'our'],
  ['для', 'for'],
  ['от', 'from'],
  ['очень', 'very'],
  ['и', 'and'],
  ['на', 'on'],
  ['со?', 'with'],
  ['во?', 'in'],
  ['под', 'under'],
  ['над', 'above'],
  ['перед', 'in front of'],
  ['за', 'behind'],
  ['из', 'from'],
  ['к|ко', 'towards'],
  ['по', 'along'],
  ['у', 'near'],
];

const PHRASEBOOK = ENTRIES.map(([pattern, english]) => ({
  pattern: new RegExp(`(?<!\\p{L})(?:${pattern})(?!\\p{L})`, 'giu'),
  english,
}));

/**
 * Replaces the Russian words the phrasebook knows with English; other words stay.
 * Each phrase is replaced once, by the first (longest) entry that knows it.
 */
export function translateKnownWords(text: string): string {
  // Placeholders keep an English word from being matched again by a later entry.
  const found: string[] = [];
  let result = text;
  for (const { pattern, english } of PHRASEBOOK) {
    result = result.replace(pattern, () => {
      found.push(english);
      return `\u0000${found.length - 1}\u0000`;
    });
  }
  return result
    .replace(/\u0000(\d+)\u0000/g, (_, i: string) => found[Number(i)] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Share of letters that are Cyrillic: tells whether a model's "English" answer is English. */
export function cyrillicShare(text: string): number {
  const letters = text.match(/\p{L}/gu) ?? [];
  if (letters.length === 0) return 0;
  const cyrillic = letters.filter((ch) => /\p{Script=Cyrillic}/u.test(ch)).length;
  return cyrillic / letters.length;
}

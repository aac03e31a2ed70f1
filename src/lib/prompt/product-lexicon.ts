/**
 * What a seller's Russian names: the product (with its category and English noun), the
 * words that describe it, where it stands, what it does, what surrounds it and the mood.
 * Marketplace spelling is expected: slang («кросы», «айфон»), missing «ё», common typos
 * («крассовки», «наушнеки»). The rules engine writes its English from these pieces only,
 * so a word it does not know is left out rather than left in Russian.
 */

export const PRODUCT_CATEGORIES = ['cosmetics', 'clothes', 'shoes', 'electronics', 'food', 'home', 'toys', 'jewellery'] as const;
export type ProductCategory = (typeof PRODUCT_CATEGORIES)[number];

/** How the English noun takes an article: "a lipstick", "sneakers", "coffee". */
export type NounKind = 'one' | 'plural' | 'mass';

export interface ProductNoun {
  en: string;
  kind: NounKind;
  /** Null for a subject that is not a product for sale (a pet, a car). */
  category: ProductCategory | null;
}

type ProductEntry = readonly [pattern: string, en: string, kind: NounKind, category: ProductCategory | null];

// Longer and more specific phrases first: «чехол для телефона» is a case, not a phone.
const PRODUCTS: ProductEntry[] = [
  ['(?:флакон\\p{L}*|бутыл\\p{L}*|бутылочк\\p{L}*)\\s+(?:духов|парфюм\\p{L}*|туалетн\\p{L}*\\s+вод\\p{L}*)', 'perfume bottle', 'one', 'cosmetics'],
  ['бутылк\\p{L}*\\s+(?:вина|вин)', 'wine bottle', 'one', 'food'],
  ['бутылк\\p{L}*\\s+(?:вод\\p{L}*|для\\s+вод\\p{L}*)', 'water bottle', 'one', 'home'],
  ['чех[оа]л\\p{L}*', 'phone case', 'one', 'electronics'],
  ['смарт[- ]?час\\p{L}*|умн\\p{L}*\\s+час\\p{L}*|фитнес[- ]?браслет\\p{L}*', 'smartwatch', 'one', 'electronics'],
  ['беспроводн\\p{L}*\\s+наушник\\p{L}*|наушник\\p{L}*|наушнеки|наушнк\\p{L}*|аирподс\\p{L}*|airpods|tws', 'headphones', 'plural', 'electronics'],
  ['(?:блютуз|bluetooth)?\\s*колонк\\p{L}*', 'speaker', 'one', 'electronics'],
  ['пауэрбанк\\p{L}*|повербанк\\p{L}*|павербанк\\p{L}*', 'power bank', 'one', 'electronics'],
  ['зарядк\\p{L}*|зарядн\\p{L}*\\s+устройств\\p{L}*', 'charger', 'one', 'electronics'],
  ['смартфон\\p{L}*|телефон\\p{L}*|айфон\\p{L}*|iphone|андроид\\p{L}*', 'smartphone', 'one', 'electronics'],
  ['ноутбук\\p{L}*|ноут|ноута|макбук\\p{L}*', 'laptop', 'one', 'electronics'],
  ['планшет\\p{L}*|айпад\\p{L}*', 'tablet', 'one', 'electronics'],
  ['клавиатур\\p{L}*|клава|клаву', 'keyboard', 'one', 'electronics'],
  ['мышк\\p{L}*|мыш\\p{L}*', 'computer mouse', 'one', 'electronics'],
  ['фен|фена|феном', 'hair dryer', 'one', 'electronics'],
  ['стайлер\\p{L}*|плойк\\p{L}*|утюжок\\p{L}*', 'hair styler', 'one', 'electronics'],
  ['камер\\p{L}*\\s+видеонаблюдени\\p{L}*|экшн[- ]?камер\\p{L}*', 'camera', 'one', 'electronics'],
  ['час(?:ы|ов|ами)|часики', 'watch', 'one', 'jewellery'],
  ['кольц[оа]|колечк\\p{L}*', 'ring', 'one', 'jewellery'],
  ['серьг\\p{L}*|сер[её]жк\\p{L}*|серёжки', 'earrings', 'plural', 'jewellery'],
  ['браслет\\p{L}*', 'bracelet', 'one', 'jewellery'],
  ['цепочк\\p{L}*|цепь|цепи', 'chain necklace', 'one', 'jewellery'],
  ['кулон\\p{L}*|подвеск\\p{L}*', 'pendant', 'one', 'jewellery'],
  ['ожерель\\p{L}*|колье', 'necklace', 'one', 'jewellery'],
  ['бижутери\\p{L}*|украшени\\p{L}*', 'jewellery', 'mass', 'jewellery'],
  ['духи|духов|духами|парфюм\\p{L}*|туалетн\\p{L}*\\s+вод\\p{L}*|аромат(?:а|ом)?(?!\\p{L})', 'perfume', 'mass', 'cosmetics'],
  ['помад\\p{L}*|блеск\\p{L}*\\s+для\\s+губ', 'lipstick', 'one', 'cosmetics'],
  ['туш\\p{L}*\\s+для\\s+ресниц|тушь|туши', 'mascara', 'one', 'cosmetics'],
  ['сыворотк\\p{L}*|серум\\p{L}*', 'serum', 'mass', 'cosmetics'],
  ['крем\\p{L}*', 'cream', 'mass', 'cosmetics'],
  ['шампун\\p{L}*', 'shampoo', 'mass', 'cosmetics'],
  ['гел\\p{L}*\\s+для\\s+душа', 'shower gel', 'mass', 'cosmetics'],
  ['лак\\p{L}*\\s+для\\s+ногтей|лак|лака', 'nail polish', 'mass', 'cosmetics'],
  ['палетк\\p{L}*|тен(?:и|ей)\\s+для\\s+век', 'eyeshadow palette', 'one', 'cosmetics'],
  ['патч\\p{L}*', 'eye patches', 'plural', 'cosmetics'],
  ['маск\\p{L}*\\s+для\\s+лица|маск\\p{L}*', 'face mask', 'one', 'cosmetics'],
  ['косметик\\p{L}*|уходов\\p{L}*\\s+средств\\p{L}*', 'cosmetics', 'plural', 'cosmetics'],
  ['мыл[оа]|мылом', 'soap', 'mass', 'cosmetics'],
  ['кроссовк\\p{L}*|кроссовок|крассовк\\p{L}*|кросс(?:ы|ов|ах|ами)|крос(?:ы|ов|ах|ами)|кроссы|кроссики', 'sneakers', 'plural', 'shoes'],
  ['кед(?:ы|ов|ах|ами)', 'canvas sneakers', 'plural', 'shoes'],
  ['ботин\\p{L}*|ботильон\\p{L}*', 'boots', 'plural', 'shoes'],
  ['сапог\\p{L}*|сапож\\p{L}*|угг\\p{L}*', 'boots', 'plural', 'shoes'],
  ['туфл\\p{L}*|туфел\\p{L}*|лодочк\\p{L}*', 'shoes', 'plural', 'shoes'],
  ['босонож\\p{L}*|сандал\\p{L}*|шл[её]пан\\p{L}*|тапочк\\p{L}*|тапк\\p{L}*', 'sandals', 'plural', 'shoes'],
  ['обув\\p{L}*', 'shoes', 'plural', 'shoes'],
  ['плать\\p{L}*|платьиц\\p{L}*', 'dress', 'one', 'clothes'],
  ['футболк\\p{L}*|футбол\\p{L}*\\s+оверсайз|майк\\p{L}*', 't-shirt', 'one', 'clothes'],
  ['худи|худак|толстовк\\p{L}*|свитшот\\p{L}*', 'hoodie', 'one', 'clothes'],
  ['свитер\\p{L}*|кофт\\p{L}*|джемпер\\p{L}*', 'sweater', 'one', 'clothes'],
  ['пуховик\\p{L}*', 'down jacket', 'one', 'clothes'],
  ['куртк\\p{L}*|курточк\\p{L}*|ветровк\\p{L}*', 'jacket', 'one', 'clothes'],
  ['пальто', 'coat', 'one', 'clothes'],
  ['джинс\\p{L}*', 'jeans', 'plural', 'clothes'],
  ['брюк\\p{L}*|штан\\p{L}*', 'trousers', 'plural', 'clothes'],
  ['юбк\\p{L}*', 'skirt', 'one', 'clothes'],
  ['рубашк\\p{L}*|рубах\\p{L}*', 'shirt', 'one', 'clothes'],
  ['пижам\\p{L}*', 'pajamas', 'plural', 'clothes'],
  ['носк\\p{L}*|носоч\\p{L}*', 'socks', 'plural', 'clothes'],
  ['шапк\\p{L}*|кепк\\p{L}*|бейсболк\\p{L}*', 'cap', 'one', 'clothes'],
  ['шарф\\p{L}*', 'scarf', 'one', 'clothes'],
  ['купальник\\p{L}*', 'swimsuit', 'one', 'clothes'],
  ['сумк\\p{L}*|сумочк\\p{L}*|шоппер\\p{L}*', 'bag', 'one', 'clothes'],
  ['рюкзак\\p{L}*', 'backpack', 'one', 'clothes'],
  ['кошел[её]к\\p{L}*|кошельк\\p{L}*', 'wallet', 'one', 'clothes'],
  ['одежд\\p{L}*|костюм\\p{L}*', 'outfit', 'one', 'clothes'],
  ['кофе|кофейн\\p{L}*\\s+з[её]рн\\p{L}*', 'coffee', 'mass', 'food'],
  ['ча[йя]|чаем', 'tea', 'mass', 'food'],
  ['м[её]д|меда|мёда|медом', 'honey', 'mass', 'food'],
  ['шоколад\\p{L}*', 'chocolate', 'mass', 'food'],
  ['торт\\p{L}*|тортик\\p{L}*|пирожн\\p{L}*|чизкейк\\p{L}*', 'cake', 'one', 'food'],
  ['печень\\p{L}*|печенюшк\\p{L}*', 'cookies', 'plural', 'food'],
  ['конфет\\p{L}*|сладост\\p{L}*', 'sweets', 'plural', 'food'],
  ['орех\\p{L}*', 'nuts', 'plural', 'food'],
  ['сок|сока|соком|смузи', 'juice', 'mass', 'food'],
  ['лимонад\\p{L}*|газировк\\p{L}*|напит\\p{L}*', 'drink', 'one', 'food'],
  ['вод[аыуе]|водой', 'bottled water', 'mass', 'food'],
  ['протеин\\p{L}*|батончик\\p{L}*', 'protein bar', 'one', 'food'],
  ['пицц\\p{L}*', 'pizza', 'one', 'food'],
  ['бургер\\p{L}*', 'burger', 'one', 'food'],
  ['мороженое|мороженого|пломбир\\p{L}*', 'ice cream', 'mass', 'food'],
  ['сыр|сыра|сыром', 'cheese', 'mass', 'food'],
  ['варень\\p{L}*|джем\\p{L}*', 'jam', 'mass', 'food'],
  ['свеч\\p{L}*|свечк\\p{L}*', 'candle', 'one', 'home'],
  ['кружк\\p{L}*', 'mug', 'one', 'home'],
  ['чашк\\p{L}*', 'cup', 'one', 'home'],
  ['ваз\\p{L}*', 'vase', 'one', 'home'],
  ['ламп\\p{L}*|светильник\\p{L}*|ночник\\p{L}*', 'lamp', 'one', 'home'],
  ['подушк\\p{L}*', 'pillow', 'one', 'home'],
  ['плед\\p{L}*|одеял\\p{L}*', 'blanket', 'one', 'home'],
  ['постельн\\p{L}*\\s+бель\\p{L}*|постельк\\p{L}*', 'bed linen', 'mass', 'home'],
  ['полотенц\\p{L}*', 'towel', 'one', 'home'],
  ['сковород\\p{L}*|сковородк\\p{L}*', 'frying pan', 'one', 'home'],
  ['кастрюл\\p{L}*', 'saucepan', 'one', 'home'],
  ['посуд\\p{L}*|тарелк\\p{L}*', 'tableware', 'mass', 'home'],
  ['термос\\p{L}*|термокружк\\p{L}*', 'thermos', 'one', 'home'],
  ['бутылк\\p{L}*|бутыл\\p{L}*', 'bottle', 'one', 'home'],
  ['диффузор\\p{L}*', 'aroma diffuser', 'one', 'home'],
  ['горшк\\p{L}*|кашп\\p{L}*', 'flower pot', 'one', 'home'],
  ['ковр\\p{L}*|ков[её]р|коврик\\p{L}*', 'rug', 'one', 'home'],
  ['органайзер\\p{L}*|корзин\\p{L}*', 'organizer', 'one', 'home'],
  ['плюшев\\p{L}*\\s+медвед\\p{L}*|мишк\\p{L}*|плюш\\p{L}*|мягк\\p{L}*\\s+игрушк\\p{L}*', 'plush toy', 'one', 'toys'],
  ['конструктор\\p{L}*|лего', 'building set', 'one', 'toys'],
  ['кукл\\p{L}*|куколк\\p{L}*', 'doll', 'one', 'toys'],
  ['машинк\\p{L}*', 'toy car', 'one', 'toys'],
  ['пазл\\p{L}*|головоломк\\p{L}*', 'puzzle', 'one', 'toys'],
  ['слайм\\p{L}*|лизун\\p{L}*|антистресс\\p{L}*|сквиш\\p{L}*', 'squishy toy', 'one', 'toys'],
  ['игрушк\\p{L}*|игрушечн\\p{L}*', 'toy', 'one', 'toys'],
  ['флакон\\p{L}*', 'bottle', 'one', 'cosmetics'],
  ['кошк\\p{L}*|кот|кота|коту|котом|котик\\p{L}*|кот[её]н\\p{L}*', 'cat', 'one', null],
  ['собак\\p{L}*|пёс|пес|пса|псом|щен\\p{L}*|песик\\p{L}*|пёсик\\p{L}*', 'dog', 'one', null],
  ['машин(?:а|у|ой|ы)|автомобил\\p{L}*|тачк\\p{L}*', 'car', 'one', null],
];

type WordEntry = readonly [pattern: string, en: string];

/** Words that describe the product; only those next to the product noun are attached to it. */
const ADJECTIVES: WordEntry[] = [
  ['бел\\p{L}*', 'white'],
  ['ч[её]рн\\p{L}*', 'black'],
  ['красн\\p{L}*', 'red'],
  ['син\\p{L}*', 'blue'],
  ['голуб\\p{L}*', 'light blue'],
  ['зел[её]н\\p{L}*', 'green'],
  ['ж[её]лт\\p{L}*', 'yellow'],
  ['розов\\p{L}*', 'pink'],
  ['бежев\\p{L}*', 'beige'],
  ['сер(?:ый|ая|ое|ые|ого|ой|ую|ых)', 'grey'],
  ['фиолетов\\p{L}*|сиренев\\p{L}*', 'purple'],
  ['оранжев\\p{L}*', 'orange'],
  ['коричнев\\p{L}*', 'brown'],
  ['золот\\p{L}*', 'gold'],
  ['серебр\\p{L}*', 'silver'],
  ['кожан\\p{L}*', 'leather'],
  ['замшев\\p{L}*', 'suede'],
  ['деревянн\\p{L}*', 'wooden'],
  ['стеклянн\\p{L}*', 'glass'],
  ['керамическ\\p{L}*', 'ceramic'],
  ['шелков\\p{L}*|шёлков\\p{L}*', 'silk'],
  ['хлопков\\p{L}*', 'cotton'],
  ['льнян\\p{L}*', 'linen'],
  ['вязан\\p{L}*', 'knitted'],
  ['шерстян\\p{L}*', 'wool'],
  ['беспроводн\\p{L}*', 'wireless'],
  ['игров\\p{L}*', 'gaming'],
  ['детск\\p{L}*', "children's"],
  ['мужск\\p{L}*', "men's"],
  ['женск\\p{L}*', "women's"],
  ['спортивн\\p{L}*|беговы\\p{L}*', 'sports'],
  ['зимн\\p{L}*', 'winter'],
  ['летн\\p{L}*', 'summer'],
  ['вечерн\\p{L}*', 'evening'],
  ['свадебн\\p{L}*', 'wedding'],
  ['ароматическ\\p{L}*|ароматн\\p{L}*', 'scented'],
  ['натуральн\\p{L}*', 'natural'],
  ['матов\\p{L}*', 'matte'],
  ['глянцев\\p{L}*', 'glossy'],
  ['прозрачн\\p{L}*', 'clear'],
  ['нов(?:ый|ая|ое|ые|ую|ого|ой|ых|енький|енькие)', 'new'],
  ['оверсайз', 'oversized'],
  ['мягк\\p{L}*', 'soft'],
  ['больш\\p{L}*', 'large'],
  ['маленьк\\p{L}*|мини', 'small'],
];

/** Where the product is: the phrase as the English writes it. */
const SETTINGS: WordEntry[] = [
  ['на\\s+мраморн\\p{L}*\\s+(?:стол\\p{L}*|поверхност\\p{L}*|плит\\p{L}*)|на\\s+мрамор\\p{L}*', 'on a marble table'],
  ['на\\s+деревянн\\p{L}*\\s+(?:стол\\p{L}*|поверхност\\p{L}*|дос\\p{L}*)', 'on a wooden table'],
  ['на\\s+(?:стол\\p{L}*|столик\\p{L}*)', 'on a table'],
  ['на\\s+подиум\\p{L}*|на\\s+пьедестал\\p{L}*|на\\s+постамент\\p{L}*', 'on a podium'],
  ['на\\s+бегов\\p{L}*\\s+дорожк\\p{L}*', 'on a treadmill'],
  ['на\\s+стадион\\p{L}*', 'at a stadium'],
  ['на\\s+асфальт\\p{L}*', 'on asphalt'],
  ['в\\s+спортзал\\p{L}*|в\\s+зал[еу]', 'in a gym'],
  ['на\\s+пляж\\p{L}*|на\\s+берегу', 'on a sunny beach'],
  ['на\\s+песк\\p{L}*|на\\s+песочк\\p{L}*', 'on sand'],
  ['в\\s+студи\\p{L}*', 'in a studio'],
  ['на\\s+кухн\\p{L}*', 'in a kitchen'],
  ['в\\s+ванн\\p{L}*', 'in a bathroom'],
  ['в\\s+спальн\\p{L}*|на\\s+кроват\\p{L}*', 'in a bedroom'],
  ['в\\s+гостин\\p{L}*|на\\s+диван\\p{L}*', 'in a living room'],
  ['в\\s+офис\\p{L}*|на\\s+рабоч\\p{L}*\\s+мест\\p{L}*', 'in an office'],
  ['в\\s+кафе|в\\s+кофейн\\p{L}*', 'in a cafe'],
  ['в\\s+лес\\p{L}*|в\\s+лесу', 'in a forest'],
  ['в\\s+гор\\p{L}*|на\\s+фоне\\s+гор', 'in the mountains'],
  ['на\\s+улиц\\p{L}*|в\\s+город\\p{L}*|на\\s+фоне\\s+город\\p{L}*', 'on a city street'],
  ['в\\s+парк\\p{L}*', 'in a park'],
  ['в\\s+вод[еу]|под\\s+вод\\p{L}*', 'in water'],
  ['на\\s+снег\\p{L}*|в\\s+снегу|в\\s+сугроб\\p{L}*', 'on snow'],
  ['на\\s+(?:камн\\p{L}*|камушк\\p{L}*)', 'on stones'],
  ['на\\s+полк\\p{L}*|на\\s+витрин\\p{L}*', 'on a shelf'],
  ['на\\s+бел\\p{L}*\\s+фон\\p{L}*', 'against a white background'],
  ['на\\s+ч[её]рн\\p{L}*\\s+фон\\p{L}*', 'against a black background'],
  ['на\\s+розов\\p{L}*\\s+фон\\p{L}*', 'against a pink background'],
  ['на\\s+фоне\\s+мор\\p{L}*', 'against a sea view'],
  ['на\\s+фоне\\s+заката|на\\s+закате', 'at sunset'],
  ['на\\s+фоне\\s+неба|в\\s+небе|в\\s+облаках', 'in the sky'],
  ['на\\s+фоне\\s+ёлк\\p{L}*|на\\s+фоне\\s+елк\\p{L}*|под\\s+ёлк\\p{L}*|под\\s+елк\\p{L}*', 'under a Christmas tree'],
  ['на\\s+(?:модел\\p{L}*|девушк\\p{L}*|человек\\p{L}*)', 'worn by a model'],
  ['на\\s+(?:ног\\p{L}*|ножк\\p{L}*)', 'on feet'],
  ['на\\s+(?:запясть\\p{L}*|рук\\p{L}*)', 'on a wrist'],
  ['в\\s+рук\\p{L}*|в\\s+ладон\\p{L}*', 'in a hand'],
  ['на\\s+шее', 'on a neck'],
  ['на\\s+вешалк\\p{L}*|на\\s+манекен\\p{L}*', 'on a mannequin'],
  ['в\\s+коробк\\p{L}*|в\\s+упаковк\\p{L}*', 'in its box'],
  ['ночью|в\\s+ночн\\p{L}*\\s+город\\p{L}*', 'at night'],
];

/** What the product does in the shot. */
const ACTIONS: WordEntry[] = [
  ['вращ\\p{L}*|крут\\p{L}*ся|кружится', 'slowly rotating'],
  // «снег падает» is the weather, not the product falling.
  ['(?<!снег\\s)(?:пада\\p{L}*|упал\\p{L}*)', 'falling'],
  ['лет\\p{L}*т|пар\\p{L}*т|левитир\\p{L}*|зависа\\p{L}*|в\\s+воздухе', 'floating in the air'],
  ['плава\\p{L}*|плыв\\p{L}*', 'floating'],
  ['открыва\\p{L}*', 'opening'],
  ['налива\\p{L}*|льётся|льется|лью\\p{L}*', 'being poured'],
  ['та(?:ет|ют)', 'melting'],
  ['свет(?:ит|ят)ся|горит|горят', 'glowing'],
  ['переливается|перелива\\p{L}*|блест\\p{L}*|сия\\p{L}*|сверка\\p{L}*|мерца\\p{L}*', 'sparkling'],
  ['развева\\p{L}*|колыш\\p{L}*', 'flowing in the breeze'],
  ['прыга\\p{L}*|подпрыгива\\p{L}*', 'bouncing'],
  ['бежит|бегут|бега\\p{L}*|пробежк\\p{L}*', 'caught in motion'],
  ['собира\\p{L}*', 'being assembled'],
  ['нанос\\p{L}*|нанес\\p{L}*|наносят', 'being applied'],
  ['примеря\\p{L}*|надева\\p{L}*', 'being tried on'],
];

/** What surrounds the product. */
const EFFECTS: WordEntry[] = [
  ['капл\\p{L}*\\s+вод\\p{L}*|капл\\p{L}*|капельк\\p{L}*', 'water droplets'],
  ['брызг\\p{L}*|всплеск\\p{L}*', 'splashes of water'],
  ['лепест\\p{L}*', 'rose petals'],
  ['цвет(?:ы|ов|ами|ах)|цветочк\\p{L}*|роз(?:ы|ами)', 'fresh flowers'],
  ['бл[её]ст(?:ки|ок|ками)|глиттер\\p{L}*', 'glitter'],
  ['конфетти', 'confetti'],
  ['дым\\p{L}*|туман\\p{L}*', 'soft mist'],
  // «5 пар» is five pairs, not steam.
  ['(?<!\\d\\s?)пар(?:ом|а)?', 'rising steam'],
  ['лист(?:ья|ьев|ьями|очки)|листв\\p{L}*', 'leaves'],
  ['снежинк\\p{L}*|снегопад\\p{L}*|снег\\s+пада\\p{L}*', 'falling snowflakes'],
  ['огоньк\\p{L}*|гирлянд\\p{L}*|боке', 'bokeh lights'],
  ['солнечн\\p{L}*\\s+(?:свет\\p{L}*|луч\\p{L}*)|солнц\\p{L}*|луч\\p{L}*', 'warm sunlight'],
  ['л[её]д|льд\\p{L}*|кубик\\p{L}*\\s+льда', 'ice cubes'],
  ['фрукт\\p{L}*|ягод\\p{L}*|клубник\\p{L}*|апельсин\\p{L}*|лимон\\p{L}*', 'fresh fruit'],
  ['з[её]рн\\p{L}*', 'coffee beans'],
  ['пузыр\\p{L}*|пен\\p{L}*', 'bubbles'],
  ['неон\\p{L}*', 'neon light'],
  ['песок|песка', 'sand'],
  ['волн\\p{L}*', 'waves'],
  ['искр\\p{L}*', 'sparks'],
];

/** The mood words; the first one found sets the closing sentence. */
const MOODS: WordEntry[] = [
  ['премиум\\p{L}*|люкс\\p{L}*|роскош\\p{L}*|дорог\\p{L}*|элегантн\\p{L}*|стильн\\p{L}*|топов\\p{L}*|топ(?!\\p{L})', 'luxurious'],
  ['уютн\\p{L}*|уют\\p{L}*|тепл\\p{L}*|домашн\\p{L}*', 'cozy'],
  ['ярк\\p{L}*|сочн\\p{L}*|бодр\\p{L}*|весел\\p{L}*|весёл\\p{L}*', 'bright, cheerful'],
  ['нежн\\p{L}*|мягк\\p{L}*\\s+свет\\p{L}*|романтичн\\p{L}*', 'soft, tender'],
  ['минимал\\p{L}*|чист\\p{L}*\\s+фон\\p{L}*|лаконичн\\p{L}*', 'minimalist'],
  ['динамичн\\p{L}*|энергичн\\p{L}*|драйв\\p{L}*|спорт\\p{L}*|быстр\\p{L}*', 'dynamic, energetic'],
  ['праздничн\\p{L}*|новогодн\\p{L}*|нов\\p{L}*\\s+год\\p{L}*|рождеств\\p{L}*|подар\\p{L}*', 'festive'],
  ['свеж\\p{L}*|освежа\\p{L}*|прохлад\\p{L}*', 'fresh'],
  ['т[её]мн\\p{L}*|мрачн\\p{L}*|загадочн\\p{L}*|драматичн\\p{L}*', 'dramatic'],
];

const compile = (pattern: string) => new RegExp(`(?<!\\p{L})(?:${pattern})(?!\\p{L})`, 'giu');
// A noun pattern may end inside a word on purpose (`кросс(?:ы|ов)`): nouns end at a letter boundary too.
const PRODUCT_PATTERNS = PRODUCTS.map(([pattern, en, kind, category]) => ({ re: compile(pattern), noun: { en, kind, category } }));
const compileAll = (entries: WordEntry[]) => entries.map(([pattern, en]) => ({ re: compile(pattern), en }));
const ADJECTIVE_PATTERNS = compileAll(ADJECTIVES);
const SETTING_PATTERNS = compileAll(SETTINGS);
const ACTION_PATTERNS = compileAll(ACTIONS);
const EFFECT_PATTERNS = compileAll(EFFECTS);
const MOOD_PATTERNS = compileAll(MOODS);

export interface ProductMention extends ProductNoun {
  /** Where the noun starts and ends in the text. */
  index: number;
  end: number;
}

/** Seller text as the rules read it: lower case, «ё» kept, typographic quotes and dashes as spaces. */
function normalise(text: string): string {
  return text.toLowerCase().replace(/[«»"“”„]/g, ' ');
}

/** The first product the text names (the earliest mention; the longer phrase where two start together). */
export function findProduct(text: string): ProductMention | null {
  const source = normalise(text);
  let best: ProductMention | null = null;
  for (const { re, noun } of PRODUCT_PATTERNS) {
    re.lastIndex = 0;
    const m = re.exec(source);
    if (!m) continue;
    const index = m.index + (m[0].length - m[0].trimStart().length);
    const end = m.index + m[0].length;
    if (!best || index < best.index || (index === best.index && end > best.end)) best = { ...noun, index, end };
  }
  return best;
}

export function detectProductCategory(text: string): ProductCategory | null {
  return findProduct(text)?.category ?? null;
}

function matchesOf(patterns: Array<{ re: RegExp; en: string }>, text: string): Array<{ en: string; index: number }> {
  const found: Array<{ en: string; index: number }> = [];
  for (const { re, en } of patterns) {
    re.lastIndex = 0;
    const m = re.exec(text);
    if (m && !found.some((f) => f.en === en)) found.push({ en, index: m.index });
  }
  return found.sort((a, b) => a.index - b.index);
}

export interface SceneReading {
  product: ProductMention | null;
  /** Describing words right before (or after) the product noun, in English order. */
  adjectives: string[];
  setting: string | null;
  action: string | null;
  effects: string[];
  mood: string | null;
}

/** Reads the pieces of a scene from a seller's text; every value is English. */
export function readScene(text: string): SceneReading {
  const source = normalise(text);
  const product = findProduct(source);
  const adjectives: string[] = [];
  if (product) {
    // Up to two words before the noun («белые кожаные кросы») or one right after it («кроссовки белые»).
    const before = source.slice(Math.max(0, product.index - 40), product.index).split(/[^\p{L}-]+/u).filter(Boolean).slice(-2);
    const after = source.slice(product.end).split(/[^\p{L}-]+/u).filter(Boolean).slice(0, 1);
    for (const word of [...before, ...after]) {
      const hit = ADJECTIVE_PATTERNS.find(({ re }) => {
        re.lastIndex = 0;
        return re.test(word);
      });
      if (hit && !adjectives.includes(hit.en) && !product.en.includes(hit.en)) adjectives.push(hit.en);
    }
  }
  const settings = matchesOf(SETTING_PATTERNS, source);
  const actions = matchesOf(ACTION_PATTERNS, source);
  const moods = matchesOf(MOOD_PATTERNS, source);
  return {
    product,
    adjectives: adjectives.slice(0, 3),
    setting: settings[0]?.en ?? null,
    action: actions[0]?.en ?? null,
    effects: matchesOf(EFFECT_PATTERNS, source)
      .map((e) => e.en)
      .filter((e) => !settings[0]?.en.includes(e))
      .slice(0, 3),
    mood: moods[0]?.en ?? null,
  };
}

import { TEMPLATE_CATALOG, type TemplateDefinition } from './template-catalog.ts';
import { chooseTemplateByKeywords, TEMPLATE_IDS } from './template-rules.ts';
import { findProduct, type ProductCategory } from './product-lexicon.ts';

/**
 * Which templates a seller can honestly get (issue 16, item 3). A template fits only when
 * the seller has what it needs: the scene templates (a pet escaping a lion, a car becoming
 * a robot, lettering) need the seller to ask for that scene in words — their keyword rule
 * must match, with its own requirement (a pet) — and the product templates need a product
 * of a kind they suit. When nothing fits, the preview says so instead of picking something.
 */

/** Templates that show any product of the kinds listed, from the photo (or its description). */
const PRODUCT_TEMPLATES: Record<string, readonly ProductCategory[]> = {
  [TEMPLATE_IDS.miniatureSet]: ['cosmetics', 'food', 'jewellery', 'electronics', 'toys', 'home'],
  [TEMPLATE_IDS.characterPresentation]: ['cosmetics', 'food', 'jewellery', 'electronics', 'toys', 'home', 'clothes', 'shoes'],
  [TEMPLATE_IDS.ecommerceDisplay]: ['cosmetics', 'food', 'jewellery', 'electronics', 'toys', 'home', 'clothes', 'shoes'],
};

/** The kinds of product a template suits (scene templates: none in particular). */
export function templateSuits(templateId: string): readonly ProductCategory[] {
  return PRODUCT_TEMPLATES[templateId] ?? [];
}

export interface TemplateRanking {
  /** Fitting templates, best first. Empty when none fits. */
  fitting: TemplateDefinition[];
  /** The words that made the first one fit (keywords, or the product noun). */
  because: string[];
  category: ProductCategory | null;
}

const MAX_OFFERED = 4;

/** Fitting templates for the seller's text, best first: asked-for scenes, then product templates. */
export function rankTemplates(userText: string): TemplateRanking {
  const product = findProduct(userText);
  const category = product?.category ?? null;
  const scored: Array<{ template: TemplateDefinition; score: number; matched: string[] }> = [];
  for (const template of TEMPLATE_CATALOG) {
    if (template.id in PRODUCT_TEMPLATES) continue;
    const match = chooseTemplateByKeywordsOnly(userText, template.id);
    if (match.length > 0) scored.push({ template, score: match.length, matched: match });
  }
  scored.sort((a, b) => b.score - a.score);
  const sceneFits = scored.map((s) => s.template);
  const productFits = category
    ? TEMPLATE_CATALOG.filter((t) => PRODUCT_TEMPLATES[t.id]?.includes(category))
        // The photo-based product templates first: the seller's photo is what they came with.
        .sort((a, b) => b.mediaInputs - a.mediaInputs)
    : [];
  const fitting = [...sceneFits, ...productFits].slice(0, MAX_OFFERED);
  const because = scored[0]?.matched ?? (product ? [userText.slice(product.index, product.end)] : []);
  return { fitting, because, category };
}

/** Keyword hits of one template's rule (with its requirement), as `chooseTemplateByKeywords` scores them. */
function chooseTemplateByKeywordsOnly(text: string, templateId: string): string[] {
  const best = chooseTemplateByKeywords(text, [templateId]);
  return best.template.id === templateId ? best.matched : [];
}

export function isTemplateFitting(userText: string, templateId: string): boolean {
  return rankTemplates(userText).fitting.some((t) => t.id === templateId);
}

import { defineCollection, z } from 'astro:content';
import { glob } from 'astro/loaders';

/** Merchant pages: Markdown the operator edits in content/legal/ (see content/README.md). */
const legal = defineCollection({
  loader: glob({ pattern: '*.md', base: './content/legal' }),
  schema: z.object({
    title: z.string(),
    titleEn: z.string(),
    order: z.number(),
  }),
});

export const collections = { legal };

import init from './0001_init.sql?raw';
import generationQueue from './0002_generation_queue.sql?raw';
import adminTools from './0003_admin_tools.sql?raw';
import unknownPayments from './0004_unknown_payments.sql?raw';
import videoFormats from './0005_video_formats.sql?raw';
import promptPreviews from './0006_prompt_previews.sql?raw';
import waiting from './0007_waiting.sql?raw';
import retention from './0008_retention.sql?raw';
import type { Migration } from '../migrations/index.ts';

/**
 * The PostgreSQL twins of migrations/ (SQLite): the same ids and names, each producing the same
 * schema behaviour on its engine (tests/unit/db-schema.test.ts holds them to it). A new SQLite
 * migration gets its twin here under the same id. Inlined at build time (`?raw`).
 */
export const postgresMigrations: Migration[] = [
  { id: 1, name: 'init', sql: init },
  { id: 2, name: 'generation_queue', sql: generationQueue },
  { id: 3, name: 'admin_tools', sql: adminTools },
  { id: 4, name: 'unknown_payments', sql: unknownPayments },
  { id: 5, name: 'video_formats', sql: videoFormats },
  { id: 6, name: 'prompt_previews', sql: promptPreviews },
  { id: 7, name: 'waiting', sql: waiting },
  { id: 8, name: 'retention', sql: retention },
];

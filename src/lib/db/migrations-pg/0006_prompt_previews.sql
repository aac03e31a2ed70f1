-- Prompt previews (issue 16); as migrations/0006 on SQLite. What the prompt engine makes of a
-- seller's text, shown before paying, kept per user for an hour.
-- `input_key` is a hash of (mode, duration, prompt) for the one-hour cache of engine results;
-- `parent_id` is the preview an edit was made from (null for the engine's own).
CREATE TABLE prompt_previews (
  id TEXT PRIMARY KEY,
  "userId" TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  parent_id TEXT,
  input_key TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('template', 'prompt')),
  duration INTEGER NOT NULL CHECK (duration IN (6, 10)),
  prompt TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('model', 'rules')),
  -- The preview's content as JSON (final prompt and moves, or template and alternatives).
  result TEXT NOT NULL,
  "createdAt" BIGINT NOT NULL,
  "expiresAt" BIGINT NOT NULL
);
CREATE INDEX idx_prompt_previews_cache ON prompt_previews("userId", input_key, "expiresAt");
CREATE INDEX idx_prompt_previews_expiry ON prompt_previews("expiresAt");

-- A generation started from a preview records which one (it ran no model call of its own).
ALTER TABLE generations ADD COLUMN preview_id TEXT;

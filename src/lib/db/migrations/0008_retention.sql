-- Issue 19, retention: with VIDEO_RETENTION_DAYS set, a daily sweep deletes the files of videos
-- older than that (original, poster, marketplace exports) and tells the owner why they are gone.

-- When the sweep took the video away, and the setting it did so under (the owner reads
-- "deleted after N days of storage" even if the setting changes later). The same transaction
-- clears video_path and poster_path, so no row names a file that is being deleted.
ALTER TABLE generations ADD COLUMN expiredAt INTEGER;
ALTER TABLE generations ADD COLUMN retention_days INTEGER CHECK (retention_days BETWEEN 1 AND 3650);

-- The sweep's search: delivered videos that still have their file, oldest first.
CREATE INDEX idx_generations_retention ON generations(completedAt) WHERE status = 'success' AND video_path IS NOT NULL;

-- Files to delete from storage (blob keys: paths relative to STORAGE_DIR, or object keys).
-- A key is written here in the transaction that drops it from its generation or export, then
-- deleted by one sweeper at a time: a pass claims keys with a lease (`claimed_by`,
-- `claimed_until`); a key whose delete failed is released for the next pass. No foreign key:
-- a file outlives its row's deletion until it is gone.
CREATE TABLE blob_deletions (
  blob_key TEXT NOT NULL PRIMARY KEY,
  generationId TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT,
  claimed_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  queuedAt INTEGER NOT NULL
);
CREATE INDEX idx_blob_deletions_due ON blob_deletions(claimed_until);

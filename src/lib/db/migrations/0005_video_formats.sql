-- Video formats, posters and marketplace exports (issue 15).

-- The shape the seller chose for the first frame (prompt mode); template mode keeps 'original'.
ALTER TABLE generations ADD COLUMN video_format TEXT NOT NULL DEFAULT 'original'
  CHECK (video_format IN ('original', '3:4', '9:16', '1:1', '16:9'));
-- The focus point the seller moved on the preview, in thousandths of the photo; NULL: the
-- crop is placed by sharp's attention strategy.
ALTER TABLE generations ADD COLUMN focus_x INTEGER CHECK (focus_x BETWEEN 0 AND 1000);
ALTER TABLE generations ADD COLUMN focus_y INTEGER CHECK (focus_y BETWEEN 0 AND 1000);
-- The cropped first frame that was sent (relative to STORAGE_DIR).
ALTER TABLE generations ADD COLUMN frame_path TEXT;
-- A JPEG taken from the saved video with ffmpeg; NULL without ffmpeg (the first frame stands in).
ALTER TABLE generations ADD COLUMN poster_path TEXT;
-- The saved file's own length, read from its MP4 header.
ALTER TABLE generations ADD COLUMN video_duration_ms INTEGER;

-- Marketplace exports and covers, made on demand from the stored original. One row per
-- (video, target, fit, kind): a second request finds the row and waits for it. The process
-- running it holds a lease (`locked_by`, `locked_until`, extended while ffmpeg runs); a row
-- whose lease lapsed (its process crashed) is claimed again, fenced by `attempt`.
CREATE TABLE video_exports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  generationId TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
  target TEXT NOT NULL,
  fit TEXT NOT NULL CHECK (fit IN ('blur', 'crop')),
  kind TEXT NOT NULL CHECK (kind IN ('video', 'cover')),
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
  path TEXT,
  bytes INTEGER,
  attempt INTEGER NOT NULL DEFAULT 0,
  locked_by TEXT,
  locked_until INTEGER,
  error_code TEXT,
  error_message TEXT,
  requestedAt INTEGER NOT NULL,
  startedAt INTEGER,
  finishedAt INTEGER,
  updatedAt INTEGER NOT NULL,
  UNIQUE (generationId, target, fit, kind)
);
CREATE INDEX idx_video_exports_live ON video_exports(requestedAt) WHERE state IN ('pending', 'running');

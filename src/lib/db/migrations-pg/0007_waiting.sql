-- Issue 16, "waiting, told honestly"; as migrations/0007 on SQLite: the wait estimate reads
-- recent history on every status answer, so both of its reads stay off a full scan of
-- finished rows.

-- The last successes of one mode and length, newest first (their median durations).
CREATE INDEX idx_generations_finished ON generations(generation_mode, duration, "completedAt")
  WHERE status = 'success';

-- The last submissions to MiniMax, newest first (how fast the line in front moves).
CREATE INDEX idx_generations_submitted ON generations("submittedAt")
  WHERE "submittedAt" IS NOT NULL;

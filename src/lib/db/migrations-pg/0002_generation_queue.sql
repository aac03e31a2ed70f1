-- Queue bookkeeping the first version lacked (DESIGN.md §2); as migrations/0002 on SQLite.

-- Retryable failures in the current step. `attempt` counts every claim and is the fence,
-- so it cannot also be the retry budget (a poll claims the row many times).
ALTER TABLE generations ADD COLUMN retry_count INTEGER NOT NULL DEFAULT 0;

-- Set just before the create call: a restart that finds it set without a task id knows
-- MiniMax may already hold a task for this generation.
ALTER TABLE generations ADD COLUMN submit_started_at BIGINT;

-- When MiniMax last pushed a status for the task (the push itself is only a hint).
ALTER TABLE generations ADD COLUMN last_callback_at BIGINT;

-- Generations failed as stuck are still watched for a late success, which is delivered
-- free of charge; this keeps that scan off the finished rows.
CREATE INDEX idx_generations_late ON generations(next_attempt_at)
  WHERE status = 'failed' AND step IN ('poll', 'download');

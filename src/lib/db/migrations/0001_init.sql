-- Beem schema, first version. Append-only: a landed migration is never edited.
-- Naming follows the spec's tables: ids and timestamps in camelCase (userId, createdAt),
-- other columns in snake_case. Timestamps are integer milliseconds since the epoch.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT UNIQUE NOT NULL,
  name TEXT NOT NULL,
  image TEXT,
  plan TEXT NOT NULL DEFAULT 'free',
  role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  -- Cached sum of credit_ledger.delta for the user; changed only together with a ledger row.
  generation_balance INTEGER NOT NULL DEFAULT 0 CHECK (generation_balance >= 0),
  generation_used INTEGER NOT NULL DEFAULT 0 CHECK (generation_used >= 0),
  auth_provider TEXT NOT NULL,
  auth_subject TEXT NOT NULL,
  locale TEXT,
  -- 152-FZ: when the user accepted the personal-data policy (first sign-in).
  consentAt INTEGER,
  lastLoginAt INTEGER,
  createdAt INTEGER NOT NULL,
  updatedAt INTEGER NOT NULL,
  UNIQUE (auth_provider, auth_subject)
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- hex SHA-256 of the cookie token; the token itself is never stored.
  token_hash TEXT UNIQUE NOT NULL,
  expiresAt INTEGER NOT NULL,
  createdAt INTEGER NOT NULL,
  user_agent TEXT,
  ip TEXT
);
CREATE INDEX idx_sessions_userId ON sessions(userId);
CREATE INDEX idx_sessions_expiresAt ON sessions(expiresAt);

CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- Path relative to STORAGE_DIR; file names are made by the server.
  path TEXT NOT NULL,
  mime TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  original_name TEXT,
  createdAt INTEGER NOT NULL
);
CREATE INDEX idx_uploads_userId ON uploads(userId, createdAt DESC);

-- The generations table is also the work queue (DESIGN.md §2).
CREATE TABLE generations (
  id TEXT PRIMARY KEY,
  userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- What users see.
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'success', 'failed')),
  -- Where the worker resumes: prepare (prompt engine) → submit → poll → download → done.
  step TEXT NOT NULL DEFAULT 'prepare' CHECK (step IN ('prepare', 'submit', 'poll', 'download', 'done')),
  duration INTEGER NOT NULL CHECK (duration IN (6, 10)),
  cost INTEGER NOT NULL CHECK (cost >= 0),
  -- 1 once the hold became final (success); 1 in refunded once it was returned. Never both.
  charged INTEGER NOT NULL DEFAULT 0 CHECK (charged IN (0, 1)),
  refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded IN (0, 1)),

  upload_id TEXT REFERENCES uploads(id),
  image_path TEXT,

  prompt TEXT,
  prompt_final TEXT,
  prompt_cinematic TEXT,
  prompt_director TEXT,
  camera_commands TEXT,

  minimax_template_id TEXT,
  minimax_template_name TEXT,
  minimax_template_inputs TEXT,
  minimax_final_prompt TEXT,

  minimax_job_id TEXT,
  minimax_status TEXT DEFAULT 'pending',
  minimax_file_id TEXT,
  model TEXT,
  resolution TEXT,
  video_url TEXT,
  video_path TEXT,
  video_bytes INTEGER,
  video_width INTEGER,
  video_height INTEGER,

  generation_mode TEXT NOT NULL DEFAULT 'template' CHECK (generation_mode IN ('template', 'prompt')),

  -- Queue bookkeeping.
  attempt INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER,
  locked_by TEXT,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_polled_at INTEGER,
  submittedAt INTEGER,
  error_stage TEXT,
  error_code TEXT,
  error_message TEXT,
  -- Unique per enqueue, so a repeated request cannot queue the same work twice.
  idempotency_key TEXT UNIQUE,

  createdAt INTEGER NOT NULL,
  updatedAt INTEGER NOT NULL,
  completedAt INTEGER,
  CHECK (NOT (charged = 1 AND refunded = 1))
);
CREATE INDEX idx_generations_userId ON generations(userId, createdAt DESC);
CREATE INDEX idx_generations_status ON generations(status);
-- Claims scan only live rows: finished rows never enter this index.
CREATE INDEX idx_generations_live ON generations(next_attempt_at, createdAt)
  WHERE status IN ('queued', 'processing');
CREATE UNIQUE INDEX idx_generations_job ON generations(minimax_job_id) WHERE minimax_job_id IS NOT NULL;

-- Status history with times, for the admin page and for support.
CREATE TABLE generation_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  generationId TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  status TEXT,
  step TEXT,
  attempt INTEGER,
  detail TEXT,
  createdAt INTEGER NOT NULL
);
CREATE INDEX idx_generation_events_gen ON generation_events(generationId, id);

-- Every balance change, with a unique reference so a change can never be applied twice.
CREATE TABLE credit_ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  delta INTEGER NOT NULL CHECK (delta <> 0),
  kind TEXT NOT NULL CHECK (kind IN ('trial', 'hold', 'refund', 'payment', 'admin_adjustment')),
  reference TEXT NOT NULL UNIQUE,
  balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
  note TEXT,
  createdAt INTEGER NOT NULL
);
CREATE INDEX idx_credit_ledger_userId ON credit_ledger(userId, id);

CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- Null until YooKassa answered the create call (the local row is written first).
  externalPaymentId TEXT UNIQUE,
  -- The spec's REAL rubles became integer kopecks: money is never a float here.
  amount_kopecks INTEGER NOT NULL CHECK (amount_kopecks > 0),
  credits INTEGER NOT NULL DEFAULT 0,
  currency TEXT NOT NULL DEFAULT 'RUB',
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'waiting_for_capture', 'succeeded', 'canceled', 'failed')),
  provider TEXT NOT NULL DEFAULT 'yookassa',
  plan TEXT NOT NULL,
  -- Generated once per attempt and stored before the call, so retries reuse it.
  idempotence_key TEXT UNIQUE NOT NULL,
  confirmation_url TEXT,
  -- 1 once the credits were added (together with the ledger row 'payment:<id>').
  applied INTEGER NOT NULL DEFAULT 0 CHECK (applied IN (0, 1)),
  appliedAt INTEGER,
  cancellation_party TEXT,
  cancellation_reason TEXT,
  last_error TEXT,
  lastCheckedAt INTEGER,
  createdAt INTEGER NOT NULL,
  updatedAt INTEGER NOT NULL
);
CREATE INDEX idx_payments_userId ON payments(userId, createdAt DESC);
CREATE INDEX idx_payments_open ON payments(createdAt) WHERE status IN ('pending', 'waiting_for_capture');

CREATE TABLE admin_subscriptions (
  userId TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  plan TEXT NOT NULL DEFAULT 'free',
  isPaid INTEGER NOT NULL DEFAULT 0 CHECK (isPaid IN (0, 1)),
  expiresAt INTEGER,
  provider TEXT NOT NULL DEFAULT 'manual',
  updatedAt INTEGER
);

-- Who did what in the admin panel or the operator shell, and why.
CREATE TABLE admin_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  adminId TEXT REFERENCES users(id) ON DELETE SET NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target_type TEXT,
  target_id TEXT,
  reason TEXT,
  detail TEXT,
  createdAt INTEGER NOT NULL
);
CREATE INDEX idx_admin_audit_createdAt ON admin_audit(createdAt DESC);

-- Operator alerts: sent, suppressed by the once-a-minute rule, or failed to deliver.
CREATE TABLE operator_alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  stage TEXT NOT NULL,
  userId TEXT,
  generationId TEXT,
  message TEXT NOT NULL,
  delivery TEXT NOT NULL CHECK (delivery IN ('sent', 'suppressed', 'failed', 'disabled')),
  delivery_error TEXT,
  createdAt INTEGER NOT NULL
);
CREATE INDEX idx_operator_alerts_createdAt ON operator_alerts(createdAt DESC);

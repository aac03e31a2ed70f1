-- Admin panel and operator shell (issue 8).

-- `admin:grant <email>` for someone who has not signed in yet: the first sign-in with this
-- email gets the admin role, and the row is removed.
CREATE TABLE pending_admins (
  email TEXT PRIMARY KEY,
  grantedBy TEXT NOT NULL,
  createdAt INTEGER NOT NULL
);

-- One key per submitted admin form (or Idempotency-Key of a JSON call): a double click or
-- a resent form finds its audit row and changes nothing a second time.
ALTER TABLE admin_audit ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX idx_admin_audit_request_key ON admin_audit(request_key) WHERE request_key IS NOT NULL;
CREATE INDEX idx_admin_audit_target ON admin_audit(target_type, target_id, createdAt DESC);

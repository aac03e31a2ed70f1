-- Admin panel and operator shell (issue 8); as migrations/0003 on SQLite.

-- `admin:grant <email>` for someone who has not signed in yet: the first sign-in with this
-- email gets the admin role, and the row is removed.
CREATE TABLE pending_admins (
  email TEXT PRIMARY KEY,
  "grantedBy" TEXT NOT NULL,
  "createdAt" BIGINT NOT NULL
);

-- One key per submitted admin form (or Idempotency-Key of a JSON call): a double click or
-- a resent form finds its audit row and changes nothing a second time.
ALTER TABLE admin_audit ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX idx_admin_audit_request_key ON admin_audit(request_key) WHERE request_key IS NOT NULL;
CREATE INDEX idx_admin_audit_target ON admin_audit(target_type, target_id, "createdAt" DESC);

-- The admin search folds case in any alphabet: unicode_lower(), which SQLite gets from
-- JavaScript (src/lib/admin/users.ts) because its own lower() folds ASCII only. PostgreSQL's
-- lower() follows the collation, and a database created with the C locale folds ASCII only
-- as well, so the function names a Unicode collation: pg_unicode_fast (PostgreSQL 18, full
-- case mapping like JavaScript's toLowerCase), else pg_c_utf8 (17), else ICU's root locale;
-- without any of them, the database's own.
DO $$
DECLARE
  unicode_collation text;
BEGIN
  SELECT c.collname INTO unicode_collation
    FROM pg_collation c
   WHERE c.collname IN ('pg_unicode_fast', 'pg_c_utf8', 'und-x-icu')
     AND c.collencoding IN (-1, (SELECT encoding FROM pg_database WHERE datname = current_database()))
   ORDER BY array_position(ARRAY['pg_unicode_fast', 'pg_c_utf8', 'und-x-icu'], c.collname::text)
   LIMIT 1;
  EXECUTE format(
    'CREATE FUNCTION unicode_lower(value text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN lower(value%s)',
    CASE WHEN unicode_collation IS NULL THEN '' ELSE format(' COLLATE %I', unicode_collation) END);
END
$$;

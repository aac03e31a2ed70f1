-- A payment YooKassa answers 404 for (issue 17); as migrations/0004 on SQLite. It is reported
-- once, re-checked with growing pauses (`next_check_at`), shown to admins, and never closed or
-- credited because of the 404.
ALTER TABLE payments ADD COLUMN unknown_since BIGINT;
ALTER TABLE payments ADD COLUMN unknown_checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN next_check_at BIGINT;

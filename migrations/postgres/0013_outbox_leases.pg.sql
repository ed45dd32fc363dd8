-- PostgreSQL twin of sql/0013: outbox leases. Instances claim due rows with
-- FOR UPDATE SKIP LOCKED and set leased_until; a crashed instance's claims are taken over
-- once their lease has run out.
ALTER TABLE hook_runs ADD COLUMN leased_until DOUBLE PRECISION;
ALTER TABLE hook_runs ADD COLUMN leased_by TEXT;
ALTER TABLE mail_outbox ADD COLUMN leased_until DOUBLE PRECISION;
ALTER TABLE mail_outbox ADD COLUMN leased_by TEXT;

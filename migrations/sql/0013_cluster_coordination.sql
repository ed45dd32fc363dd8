-- Coordination between processes sharing a database (contract §10.2).
--
-- Outbox leases: a hook run or a message is claimed by one process until leased_until, so
-- that processes sharing a database never perform one attempt twice; a crashed process's
-- claims are taken over once their lease has run out.
--
-- (PostgreSQL's twin also adds the tables of the shared brute-force limits; an SQLite
-- database has one server process, which keeps those limits in memory.)
ALTER TABLE hook_runs ADD COLUMN leased_until REAL;
ALTER TABLE hook_runs ADD COLUMN leased_by TEXT;
ALTER TABLE mail_outbox ADD COLUMN leased_until REAL;
ALTER TABLE mail_outbox ADD COLUMN leased_by TEXT;

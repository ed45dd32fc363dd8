-- PostgreSQL twin of sql/0005: generations of what an instance may keep in memory, bumped
-- once per statement that changes the tables behind them, whichever instance runs it.
-- Instances poll them every cluster_sync_interval (contract §10.2).
CREATE TABLE change_counters (
    name       TEXT PRIMARY KEY,
    generation BIGINT NOT NULL
);

INSERT INTO change_counters (name, generation) VALUES ('clients', 0), ('standings', 0);

CREATE FUNCTION tessera_bump_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name = ANY (TG_ARGV);
    RETURN NULL;
END
$$;

CREATE TRIGGER clients_counted AFTER INSERT OR UPDATE OR DELETE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_bump_counters('clients', 'standings');
CREATE TRIGGER users_counted AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_bump_counters('standings');
CREATE TRIGGER revoked_access_tokens_counted AFTER INSERT OR UPDATE OR DELETE ON revoked_access_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_bump_counters('standings');
CREATE TRIGGER client_revocations_counted AFTER INSERT OR UPDATE OR DELETE ON client_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_bump_counters('standings');

-- PostgreSQL twin of sql/0007: how many password hashes there are of each bcrypt cost, kept
-- by a trigger. The cost is the two characters 56 from the end of the 60-character string.
CREATE TABLE password_hash_costs (
    cost   TEXT PRIMARY KEY,
    hashes BIGINT NOT NULL
);

CREATE FUNCTION tessera_hash_cost(hash TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT substr(hash, length(hash) - 55, 2)
$$;

INSERT INTO password_hash_costs (cost, hashes)
    SELECT tessera_hash_cost(password_hash), count(*) FROM users WHERE password_hash IS NOT NULL GROUP BY 1;

CREATE FUNCTION tessera_count_hash_costs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.password_hash IS NOT NULL THEN
        UPDATE password_hash_costs SET hashes = hashes - 1 WHERE cost = tessera_hash_cost(OLD.password_hash);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.password_hash IS NOT NULL THEN
        INSERT INTO password_hash_costs (cost, hashes) VALUES (tessera_hash_cost(NEW.password_hash), 1)
            ON CONFLICT (cost) DO UPDATE SET hashes = password_hash_costs.hashes + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_insert_hash_cost AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION tessera_count_hash_costs();
CREATE TRIGGER users_delete_hash_cost AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION tessera_count_hash_costs();
CREATE TRIGGER users_update_hash_cost AFTER UPDATE OF password_hash ON users FOR EACH ROW
    WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash) EXECUTE FUNCTION tessera_count_hash_costs();

-- PostgreSQL twin of sql/0010: tombstones of deleted accounts; no later account takes the id.
CREATE TABLE deleted_users (
    id         TEXT PRIMARY KEY,
    deleted_at DOUBLE PRECISION NOT NULL
);

CREATE FUNCTION tessera_id_not_reused() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM deleted_users WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'the id of a deleted user' USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_id_not_reused BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION tessera_id_not_reused();

-- PostgreSQL twin of sql/0011: an account's further addresses. The triggers hold the
-- invariant (an address is at most one account's primary or verified address) for concurrent
-- transactions too: each takes a transaction lock on the address before it looks, so of two
-- writers claiming one address the second looks after the first has committed.
CREATE TABLE user_emails (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    email_key  TEXT NOT NULL,
    verified   BOOLEAN NOT NULL DEFAULT false,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (user_id, email_key)
);

CREATE UNIQUE INDEX user_emails_verified ON user_emails (email_key) WHERE verified;

ALTER TABLE users ADD COLUMN other_emails INTEGER NOT NULL DEFAULT 0;

CREATE FUNCTION tessera_count_emails() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE users SET other_emails = other_emails + 1, profile_version = profile_version + 1 WHERE id = NEW.user_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE users SET profile_version = profile_version + 1 WHERE id = NEW.user_id;
    ELSE
        UPDATE users SET other_emails = other_emails - 1, profile_version = profile_version + 1 WHERE id = OLD.user_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_emails_counted AFTER INSERT OR UPDATE OR DELETE ON user_emails FOR EACH ROW EXECUTE FUNCTION tessera_count_emails();

-- Serializes every claim of one address (primary or verified) for the rest of the transaction.
CREATE FUNCTION tessera_lock_address(email_key TEXT) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(7, hashtext(email_key))
$$;

CREATE FUNCTION tessera_verified_not_anothers_primary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.verified THEN
        PERFORM tessera_lock_address(NEW.email_key);
        IF EXISTS (SELECT 1 FROM users WHERE email_key = NEW.email_key AND id <> NEW.user_id) THEN
            RAISE EXCEPTION 'the address is another account''s' USING ERRCODE = 'unique_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER user_emails_verified_not_anothers_primary BEFORE INSERT OR UPDATE OF verified ON user_emails
    FOR EACH ROW EXECUTE FUNCTION tessera_verified_not_anothers_primary();

CREATE FUNCTION tessera_primary_not_anothers_verified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tessera_lock_address(NEW.email_key);
    IF EXISTS (SELECT 1 FROM user_emails WHERE email_key = NEW.email_key AND verified AND user_id <> NEW.id) THEN
        RAISE EXCEPTION 'the address is another account''s' USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_email_not_anothers_verified BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION tessera_primary_not_anothers_verified();
CREATE TRIGGER users_primary_not_anothers_verified BEFORE UPDATE OF email_key ON users
    FOR EACH ROW WHEN (OLD.email_key IS DISTINCT FROM NEW.email_key) EXECUTE FUNCTION tessera_primary_not_anothers_verified();

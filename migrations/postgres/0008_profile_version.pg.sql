-- PostgreSQL twin of sql/0008: the profile's version (its ETag), moved by a trigger in the
-- transaction of any change to the email, its verification, the status or the attributes.
ALTER TABLE users ADD COLUMN profile_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION tessera_profile_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.profile_version := OLD.profile_version + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_profile_version BEFORE UPDATE OF email, email_verified, status, attributes ON users FOR EACH ROW
    WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.email_verified IS DISTINCT FROM NEW.email_verified
          OR OLD.status IS DISTINCT FROM NEW.status OR OLD.attributes IS DISTINCT FROM NEW.attributes)
    EXECUTE FUNCTION tessera_profile_version();

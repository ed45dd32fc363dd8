-- The version of what `/v1/me` shows of a user, its strong ETag: bumped by a trigger in the
-- transaction of any change to the email, its verification, the status or the attributes,
-- whichever process makes it, so a conditional update (If-Match) can never miss one.
ALTER TABLE users ADD COLUMN profile_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER users_profile_version AFTER UPDATE OF email, email_verified, status, attributes ON users
WHEN OLD.email IS NOT NEW.email OR OLD.email_verified IS NOT NEW.email_verified OR OLD.status IS NOT NEW.status
    OR OLD.attributes IS NOT NEW.attributes
BEGIN
    UPDATE users SET profile_version = profile_version + 1 WHERE id = NEW.id;
END;

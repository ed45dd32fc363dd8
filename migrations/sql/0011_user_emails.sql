-- An account's further addresses (contract §8.3). The primary stays in users.email; these are
-- the others, verified or waiting for their add_email code. Triggers hold the invariant for
-- every code path: an address belongs to at most one account as primary or as verified
-- (case-insensitively); an unverified added address reserves nothing.
CREATE TABLE user_emails (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    email_key  TEXT NOT NULL,
    verified   INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    created_at REAL NOT NULL,
    PRIMARY KEY (user_id, email_key)
) STRICT;

CREATE UNIQUE INDEX user_emails_verified ON user_emails (email_key) WHERE verified = 1;

-- How many further addresses a user has, kept by the triggers below, so that reading a
-- profile costs no second query for the many users who have none. The addresses are part of
-- what /v1/me shows, so every change to them also moves the profile's version (its ETag).
ALTER TABLE users ADD COLUMN other_emails INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER user_emails_added AFTER INSERT ON user_emails
BEGIN
    UPDATE users SET other_emails = other_emails + 1, profile_version = profile_version + 1 WHERE id = NEW.user_id;
END;

CREATE TRIGGER user_emails_changed AFTER UPDATE ON user_emails
BEGIN
    UPDATE users SET profile_version = profile_version + 1 WHERE id = NEW.user_id;
END;

CREATE TRIGGER user_emails_removed AFTER DELETE ON user_emails
BEGIN
    UPDATE users SET other_emails = other_emails - 1, profile_version = profile_version + 1 WHERE id = OLD.user_id;
END;

CREATE TRIGGER user_emails_verified_not_anothers_primary BEFORE INSERT ON user_emails
WHEN NEW.verified = 1 AND EXISTS (SELECT 1 FROM users WHERE email_key = NEW.email_key AND id <> NEW.user_id)
BEGIN
    SELECT RAISE(ABORT, 'the address is another account''s');
END;

CREATE TRIGGER user_emails_verify_not_anothers_primary BEFORE UPDATE OF verified ON user_emails
WHEN NEW.verified = 1 AND EXISTS (SELECT 1 FROM users WHERE email_key = NEW.email_key AND id <> NEW.user_id)
BEGIN
    SELECT RAISE(ABORT, 'the address is another account''s');
END;

CREATE TRIGGER users_email_not_anothers_verified BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM user_emails WHERE email_key = NEW.email_key AND verified = 1 AND user_id <> NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'the address is another account''s');
END;

CREATE TRIGGER users_primary_not_anothers_verified BEFORE UPDATE OF email_key ON users
WHEN EXISTS (SELECT 1 FROM user_emails WHERE email_key = NEW.email_key AND verified = 1 AND user_id <> NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'the address is another account''s');
END;

-- How many stored password hashes there are of each bcrypt cost, kept by triggers in the
-- transaction of every change to a user's hash, so that the dummy hash an unknown email is
-- checked against can have a cost drawn like real users' without reading the users table.
-- A bcrypt string is 60 characters and its cost the two after `$2b$`: 56 from the end,
-- whatever scheme prefix stands before it.
CREATE TABLE password_hash_costs (
    cost   TEXT PRIMARY KEY NOT NULL,
    hashes INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO password_hash_costs (cost, hashes)
    SELECT substr(password_hash, -56, 2), count(*) FROM users WHERE password_hash IS NOT NULL GROUP BY 1;

CREATE TRIGGER users_insert_hash_cost AFTER INSERT ON users WHEN NEW.password_hash IS NOT NULL BEGIN
    INSERT INTO password_hash_costs (cost, hashes) VALUES (substr(NEW.password_hash, -56, 2), 1)
        ON CONFLICT (cost) DO UPDATE SET hashes = hashes + 1;
END;

CREATE TRIGGER users_delete_hash_cost AFTER DELETE ON users WHEN OLD.password_hash IS NOT NULL BEGIN
    UPDATE password_hash_costs SET hashes = hashes - 1 WHERE cost = substr(OLD.password_hash, -56, 2);
END;

CREATE TRIGGER users_update_hash_cost AFTER UPDATE OF password_hash ON users BEGIN
    UPDATE password_hash_costs SET hashes = hashes - 1
        WHERE OLD.password_hash IS NOT NULL AND cost = substr(OLD.password_hash, -56, 2);
    INSERT INTO password_hash_costs (cost, hashes) SELECT substr(NEW.password_hash, -56, 2), 1 WHERE NEW.password_hash IS NOT NULL
        ON CONFLICT (cost) DO UPDATE SET hashes = hashes + 1;
END;

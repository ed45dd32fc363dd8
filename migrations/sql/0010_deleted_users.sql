-- Tombstones of deleted accounts (contract §8.3): the id alone, so that no later account —
-- an import keeping Cognito `sub`s included — can take a deleted user's id and inherit what
-- other systems still hold under it.
CREATE TABLE deleted_users (
    id         TEXT PRIMARY KEY NOT NULL,
    deleted_at REAL NOT NULL
) STRICT;

CREATE TRIGGER users_id_not_reused BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM deleted_users WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'the id of a deleted user');
END;

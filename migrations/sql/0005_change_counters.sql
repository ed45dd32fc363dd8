-- Generations of what the server keeps in memory between reads: client rows ('clients'),
-- and everything that decides whether an access token still stands ('standings': users,
-- clients, revoked jtis, client revocations). The triggers below bump them on every change,
-- whichever process makes it, so a memo is dropped exactly when what it holds may have
-- changed, and not on every refresh-token rotation.
CREATE TABLE change_counters (
    name       TEXT PRIMARY KEY NOT NULL,
    generation INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO change_counters (name, generation) VALUES ('clients', 0), ('standings', 0);

CREATE TRIGGER clients_insert_counted AFTER INSERT ON clients BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('clients', 'standings');
END;

CREATE TRIGGER clients_update_counted AFTER UPDATE ON clients BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('clients', 'standings');
END;

CREATE TRIGGER clients_delete_counted AFTER DELETE ON clients BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('clients', 'standings');
END;

CREATE TRIGGER users_insert_counted AFTER INSERT ON users BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

CREATE TRIGGER users_update_counted AFTER UPDATE ON users BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

CREATE TRIGGER users_delete_counted AFTER DELETE ON users BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

CREATE TRIGGER revoked_access_tokens_insert_counted AFTER INSERT ON revoked_access_tokens BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

CREATE TRIGGER revoked_access_tokens_update_counted AFTER UPDATE ON revoked_access_tokens BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

CREATE TRIGGER revoked_access_tokens_delete_counted AFTER DELETE ON revoked_access_tokens BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

CREATE TRIGGER client_revocations_insert_counted AFTER INSERT ON client_revocations BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

CREATE TRIGGER client_revocations_update_counted AFTER UPDATE ON client_revocations BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

CREATE TRIGGER client_revocations_delete_counted AFTER DELETE ON client_revocations BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

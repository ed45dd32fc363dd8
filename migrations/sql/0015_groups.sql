-- Groups (contract §11.5): named sets of users whose names go into their members' tokens,
-- ordered by precedence. A member row goes with its group and with its user.
CREATE TABLE user_groups (
    name        TEXT PRIMARY KEY NOT NULL,
    description TEXT,
    precedence  INTEGER CHECK (precedence >= 0),   -- lower first; NULL after every number
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
) STRICT;

CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES user_groups (name) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    PRIMARY KEY (group_name, user_id)
) STRICT;

CREATE INDEX group_members_user ON group_members (user_id);

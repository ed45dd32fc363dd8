-- PostgreSQL twin of sql/0015: groups and their members (contract §11.5).
CREATE TABLE user_groups (
    name        TEXT PRIMARY KEY,
    description TEXT,
    precedence  BIGINT CHECK (precedence >= 0),
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);

CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES user_groups (name) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (group_name, user_id)
);

CREATE INDEX group_members_user ON group_members (user_id);

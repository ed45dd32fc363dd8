import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: GroupStore {
    static let groupColumns = "name, description, precedence, created_at, updated_at"

    static func group(_ cells: Cells) throws -> UserGroup {
        UserGroup(
            name: try cells.text(0), description: try cells.optionalText(1), precedence: try cells.optionalInt(2),
            createdAt: try cells.date(3), updatedAt: try cells.date(4))
    }

    public func createGroup(_ group: UserGroup) async throws {
        let precedence = group.precedence.map(Int64.init)
        try await autocommit { sql in
            _ = try await sql.execute("""
                INSERT INTO user_groups (\(unescaped: Self.groupColumns))
                VALUES (\(group.name), \(group.description), \(precedence), \(group.createdAt.stored), \(group.updatedAt.stored))
                """)
        }
    }

    public func updateGroup(named name: String, description: String?, precedence: Int?, now: Date) async throws -> UserGroup? {
        let precedence = precedence.map(Int64.init)
        return try await autocommit { sql in
            try await sql.row("""
                UPDATE user_groups SET description = \(description), precedence = \(precedence), updated_at = \(now.stored)
                WHERE name = \(name) RETURNING \(unescaped: Self.groupColumns)
                """).map(Self.group)
        }
    }

    public func group(named name: String) async throws -> UserGroup? {
        try await read { sql in
            try await sql.row("SELECT \(unescaped: Self.groupColumns) FROM user_groups WHERE name = \(name)").map(Self.group)
        }
    }

    public func listGroups(limit: Int, after: String?) async throws -> [UserGroup] {
        let limit = Int64(limit)
        return try await read { sql in
            try await sql.rows("""
                SELECT \(unescaped: Self.groupColumns) FROM user_groups WHERE \(after)::text IS NULL OR name COLLATE "C" > \(after)
                ORDER BY name COLLATE "C" LIMIT \(limit)
                """).map(Self.group)
        }
    }

    public func deleteGroup(named name: String) async throws -> Bool {
        try await autocommit { sql in try await sql.execute("DELETE FROM user_groups WHERE name = \(name)") > 0 }
    }

    public func addMember(group name: String, userID: String, now: Date) async throws {
        try await autocommit { sql in
            // One statement: the group and the user are both checked where the row goes in.
            let inserted = try await sql.row("""
                WITH target AS (
                    SELECT g.name, u.id FROM user_groups g, users u WHERE g.name = \(name) AND u.id = \(userID)
                ), added AS (
                    INSERT INTO group_members (group_name, user_id, created_at) SELECT name, id, \(now.stored) FROM target
                    ON CONFLICT DO NOTHING RETURNING 1
                )
                SELECT (SELECT count(*) FROM target)
                """)
            guard try inserted?.int(0) == 1 else { throw StorageError.notFound }
        }
    }

    public func removeMember(group name: String, userID: String) async throws -> Bool {
        try await autocommit { sql in
            try await sql.execute("DELETE FROM group_members WHERE group_name = \(name) AND user_id = \(userID)") > 0
        }
    }

    public func members(of name: String, limit: Int, after: String?) async throws -> [User] {
        let limit = Int64(limit)
        return try await read { sql in
            guard try await sql.row("SELECT 1 FROM user_groups WHERE name = \(name)") != nil else { throw StorageError.notFound }
            return try await sql.rows("""
                SELECT \(unescaped: Self.userColumns(prefixedWith: "u.")) FROM group_members m JOIN users u ON u.id = m.user_id
                WHERE m.group_name = \(name) AND (\(after)::text IS NULL OR m.user_id COLLATE "C" > \(after)) ORDER BY m.user_id COLLATE "C" LIMIT \(limit)
                """).map { try Self.user($0) }
        }
    }

    public func groups(ofUser userID: String) async throws -> [UserGroup] {
        try await read { sql in
            try await sql.rows("""
                SELECT g.name, g.description, g.precedence, g.created_at, g.updated_at
                FROM group_members m JOIN user_groups g ON g.name = m.group_name
                WHERE m.user_id = \(userID) ORDER BY g.precedence NULLS LAST, g.name COLLATE "C"
                """).map(Self.group)
        }
    }
}

import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: GroupStore {
    static let groupColumns = "name, description, precedence, created_at, updated_at"

    static func group(_ row: Row) -> UserGroup {
        UserGroup(
            name: row[0], description: row[1], precedence: row[2], createdAt: Date(timeIntervalSince1970: row[3]),
            updatedAt: Date(timeIntervalSince1970: row[4]))
    }

    public func createGroup(_ group: UserGroup) async throws {
        do {
            try await write { db in
                try db.execute(
                    sql: "INSERT INTO user_groups (\(Self.groupColumns)) VALUES (?, ?, ?, ?, ?)",
                    arguments: [group.name, group.description, group.precedence, group.createdAt.stored, group.updatedAt.stored])
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw StorageError.alreadyExists
        }
    }

    public func updateGroup(named name: String, description: String?, precedence: Int?, now: Date) async throws -> UserGroup? {
        try await write { db in
            try db.execute(
                sql: "UPDATE user_groups SET description = ?, precedence = ?, updated_at = ? WHERE name = ?",
                arguments: [description, precedence, now.stored, name])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT \(Self.groupColumns) FROM user_groups WHERE name = ?", arguments: [name]).map(Self.group)
        }
    }

    public func group(named name: String) async throws -> UserGroup? {
        try readOnCallingThread { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.groupColumns) FROM user_groups WHERE name = ?", arguments: [name]).map(Self.group)
        }
    }

    public func listGroups(limit: Int, after: String?) async throws -> [UserGroup] {
        try readOnCallingThread { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.groupColumns) FROM user_groups WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2",
                arguments: [after, limit]
            ).map(Self.group)
        }
    }

    public func deleteGroup(named name: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM user_groups WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func addMember(group name: String, userID: String, now: Date) async throws {
        try await write { db in
            let bothExist = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM user_groups WHERE name = ?) AND EXISTS (SELECT 1 FROM users WHERE id = ?)
                """, arguments: [name, userID]) ?? false
            guard bothExist else { throw StorageError.notFound }
            try db.execute(
                sql: "INSERT INTO group_members (group_name, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [name, userID, now.stored])
        }
    }

    public func removeMember(group name: String, userID: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM group_members WHERE group_name = ? AND user_id = ?", arguments: [name, userID])
            return db.changesCount > 0
        }
    }

    public func members(of name: String, limit: Int, after: String?) async throws -> [User] {
        try readOnCallingThread { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM user_groups WHERE name = ?)", arguments: [name]) ?? false else {
                throw StorageError.notFound
            }
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.userColumns(prefixedWith: "u.")) FROM group_members m JOIN users u ON u.id = m.user_id
                WHERE m.group_name = ?1 AND (?2 IS NULL OR m.user_id > ?2) ORDER BY m.user_id LIMIT ?3
                """, arguments: [name, after, limit]
            ).map { Self.user($0) }
        }
    }

    public func groups(ofUser userID: String) async throws -> [UserGroup] {
        try readOnCallingThread { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT g.name, g.description, g.precedence, g.created_at, g.updated_at
                FROM group_members m JOIN user_groups g ON g.name = m.group_name
                WHERE m.user_id = ? ORDER BY g.precedence IS NULL, g.precedence, g.name
                """), arguments: [userID]
            ).map(Self.group)
        }
    }
}

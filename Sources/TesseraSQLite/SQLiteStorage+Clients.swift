import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: ClientStore {
    static let clientColumns = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grants, scope, audience, access_token_ttl, created_at, source, auth_flows, refresh_rotation, retry_grace_seconds, secret_sealed"

    public func client(id: String) async throws -> Client? {
        // No registered client has an id outside the id syntax: answer such a one without a read,
        // and never remember it (a request names any id it likes, of any length).
        guard ClientDeclaration.isValidID(id) else { return nil }
        // Read on every client authentication: kept while no client changes ('clients', migration 0005).
        return try clients.value(for: id) {
            try readOneStatementOnCallingThread { db in
                try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.clientColumns) FROM clients WHERE id = ?"), arguments: [id]).map(Self.client)
            }
        }
    }

    public func createClient(_ client: Client, now: Date) async throws {
        do {
            try await write { db in try Self.insert(db, client, source: "admin", now: now, replacing: false) }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw StorageError.alreadyExists
        }
    }

    public func syncConfiguredClients(_ declared: [Client], now: Date) async throws -> [String] {
        try await write { db in
            for client in declared { try Self.insert(db, client, source: "config", now: now, replacing: true) }
            let ids = Set(declared.map(\.id))
            let stale = try String.fetchAll(db, sql: "SELECT id FROM clients WHERE source = 'config' ORDER BY id").filter { !ids.contains($0) }
            for id in stale {
                try db.execute(sql: "DELETE FROM clients WHERE id = ?", arguments: [id])
                _ = try Self.revokeClientTokens(db, clientID: id, now: now)
            }
            return stale
        }
    }

    public func listClients() async throws -> [Client] {
        try readOnCallingThread { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.clientColumns) FROM clients ORDER BY created_at, id").map(Self.client)
        }
    }

    public func deleteClient(id: String, now: Date) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM clients WHERE id = ?", arguments: [id])
            guard db.changesCount == 1 else { throw StorageError.notFound }
            _ = try Self.revokeClientTokens(db, clientID: id, now: now)
        }
    }

    public func replaceClientSecret(id: String, hash: TokenHash, sealed: [UInt8]?, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE clients SET secret_hash = ?, secret_sealed = ?, updated_at = ? WHERE id = ? AND secret_hash IS NOT NULL",
                arguments: [Data(hash.bytes), sealed.map { Data($0) }, now.stored, id])
            guard db.changesCount == 1 else { throw StorageError.notFound }
        }
    }

    public func updateClient(id: String, now: Date, _ change: @escaping @Sendable (Client) throws -> Client?) async throws -> ClientUpdateOutcome {
        try await write { db in
            guard let current = try Row.fetchOne(db, sql: "SELECT \(Self.clientColumns) FROM clients WHERE id = ?", arguments: [id]).map(Self.client) else {
                return .notFound
            }
            guard let changed = try change(current) else { return .refused(current) }
            let json = { (value: [String]) in String(decoding: try JSONEncoder().encode(value), as: UTF8.self) }
            try db.execute(
                sql: """
                    UPDATE clients SET name = ?, redirect_uris = ?, post_logout_redirect_uris = ?, grants = ?, scope = ?, audience = ?,
                        access_token_ttl = ?, auth_flows = ?, refresh_rotation = ?, retry_grace_seconds = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [changed.name, try json(changed.redirectURIs), try json(changed.postLogoutRedirectURIs),
                            try json(changed.grants.map(\.rawValue).sorted()), changed.scope.description, changed.audience, changed.accessTokenTTL,
                            try json(changed.cognito.authFlows.map(\.rawValue).sorted()), changed.cognito.refreshRotation ? "enabled" : "disabled",
                            changed.cognito.retryGraceSeconds, now.stored, id])
            return .updated(try Row.fetchOne(db, sql: "SELECT \(Self.clientColumns) FROM clients WHERE id = ?", arguments: [id]).map(Self.client) ?? changed)
        }
    }

    static func insert(_ db: Database, _ client: Client, source: String, now: Date, replacing: Bool) throws {
        let encoder = JSONEncoder()
        let json = { (value: [String]) in String(decoding: try encoder.encode(value), as: UTF8.self) }
        try db.execute(
            sql: """
                INSERT INTO clients (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grants, scope, audience, access_token_ttl, source, created_at, updated_at,
                                     auth_flows, refresh_rotation, retry_grace_seconds, secret_sealed)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                \(replacing ? """
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash,
                        redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris,
                        grants = excluded.grants, scope = excluded.scope, audience = excluded.audience, access_token_ttl = excluded.access_token_ttl,
                        source = excluded.source, updated_at = excluded.updated_at, auth_flows = excluded.auth_flows,
                        refresh_rotation = excluded.refresh_rotation, retry_grace_seconds = excluded.retry_grace_seconds,
                        secret_sealed = excluded.secret_sealed
                    """ : "")
                """,
            arguments: [client.id, client.name, client.secretHash.map { Data($0.bytes) }, try json(client.redirectURIs),
                        try json(client.postLogoutRedirectURIs), try json(client.grants.map(\.rawValue).sorted()),
                        client.scope.description, client.audience, client.accessTokenTTL, source, client.createdAt.stored, now.stored,
                        try json(client.cognito.authFlows.map(\.rawValue).sorted()), client.cognito.refreshRotation ? "enabled" : "disabled",
                        client.cognito.retryGraceSeconds, client.cognito.sealedSecret.map { Data($0) }])
    }

    private static let decoder = JSONDecoder()

    /// A client from ``clientColumns`` selected in their order (read by position, as users are).
    static func client(_ row: Row) -> Client {
        let decode = { (column: Int) -> [String] in
            let text: String = row[column]
            return text == "[]" ? [] : (try? Self.decoder.decode([String].self, from: Data(text.utf8))) ?? []
        }
        return Client(
            id: row[0], name: row[1], secretHash: (row[2] as Data?).map { TokenHash(bytes: Array($0)) },
            redirectURIs: decode(3), postLogoutRedirectURIs: decode(4),
            grants: Set(decode(5).compactMap(GrantType.init(rawValue:))),
            scope: Scope(parsing: row[6]) ?? Scope([]), audience: row[7], accessTokenTTL: row[8],
            createdAt: Date(timeIntervalSince1970: row[9]), source: ClientSource(rawValue: row[10]) ?? .admin,
            cognito: CognitoAppSettings(
                authFlows: Set(decode(11).compactMap(CognitoAuthFlow.init(rawValue:))), refreshRotation: (row[12] as String) == "enabled",
                retryGraceSeconds: row[13], sealedSecret: (row[14] as Data?).map { Array($0) }))
    }
}

import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: ClientStore {
    static let clientColumns = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grants, scope, audience, access_token_ttl, created_at, source, auth_flows, refresh_rotation, retry_grace_seconds, secret_sealed"

    public func client(id: String) async throws -> Client? {
        // No registered client has an id outside the id syntax: answer such a one without a read.
        guard ClientDeclaration.isValidID(id) else { return nil }
        // Read on every client authentication: kept while no instance changed a client.
        return try await clients.value(for: id) {
            try await read { sql in
                try await sql.row("SELECT \(unescaped: Self.clientColumns) FROM clients WHERE id = \(id)").map(Self.client)
            }
        }
    }

    public func createClient(_ client: Client, now: Date) async throws {
        try await write { sql in try await Self.insert(sql, client, source: "admin", now: now, replacing: false) }
    }

    public func syncConfiguredClients(_ declared: [Client], now: Date) async throws -> [String] {
        try await write { sql in
            for client in declared { try await Self.insert(sql, client, source: "config", now: now, replacing: true) }
            let ids = Set(declared.map(\.id))
            let stale = try await sql.rows("SELECT id FROM clients WHERE source = 'config' ORDER BY id").map { try $0.text(0) }.filter { !ids.contains($0) }
            for id in stale {
                try await sql.execute("DELETE FROM clients WHERE id = \(id)")
                _ = try await Self.revokeClientTokens(sql, clientID: id, now: now)
            }
            return stale
        }
    }

    public func listClients() async throws -> [Client] {
        try await read { sql in
            try await sql.rows("SELECT \(unescaped: Self.clientColumns) FROM clients ORDER BY created_at, id").map(Self.client)
        }
    }

    public func deleteClient(id: String, now: Date) async throws {
        try await write { sql in
            guard try await sql.execute("DELETE FROM clients WHERE id = \(id)") == 1 else { throw StorageError.notFound }
            _ = try await Self.revokeClientTokens(sql, clientID: id, now: now)
        }
    }

    public func replaceClientSecret(id: String, hash: TokenHash, sealed: [UInt8]?, now: Date) async throws {
        let sealed = sealed.map { Data($0) }
        try await write { sql in
            guard try await sql.execute("""
                UPDATE clients SET secret_hash = \(hash.stored), secret_sealed = \(sealed), updated_at = \(now.stored)
                WHERE id = \(id) AND secret_hash IS NOT NULL
                """) == 1
            else { throw StorageError.notFound }
        }
    }

    public func updateClient(id: String, now: Date, _ change: @escaping @Sendable (Client) throws -> Client?) async throws -> ClientUpdateOutcome {
        try await write { sql in
            // The row lock holds a concurrent change back until this one commits, so its
            // precondition is checked against what this one wrote.
            guard let current = try await sql.row("SELECT \(unescaped: Self.clientColumns) FROM clients WHERE id = \(id) FOR UPDATE").map(Self.client) else {
                return .notFound
            }
            guard let changed = try change(current) else { return .refused(current) }
            let json = { (value: [String]) in String(decoding: try JSONEncoder().encode(value), as: UTF8.self) }
            try await sql.execute("""
                UPDATE clients SET name = \(changed.name), redirect_uris = \(try json(changed.redirectURIs)),
                    post_logout_redirect_uris = \(try json(changed.postLogoutRedirectURIs)), grants = \(try json(changed.grants.map(\.rawValue).sorted())),
                    scope = \(changed.scope.description), audience = \(changed.audience), access_token_ttl = \(changed.accessTokenTTL),
                    auth_flows = \(try json(changed.cognito.authFlows.map(\.rawValue).sorted())),
                    refresh_rotation = \(changed.cognito.refreshRotation ? "enabled" : "disabled"),
                    retry_grace_seconds = \(Int64(changed.cognito.retryGraceSeconds)), updated_at = \(now.stored)
                WHERE id = \(id)
                """)
            return .updated(try await sql.row("SELECT \(unescaped: Self.clientColumns) FROM clients WHERE id = \(id)").map(Self.client) ?? changed)
        }
    }

    static func insert(_ sql: SQL, _ client: Client, source: String, now: Date, replacing: Bool) async throws {
        let encoder = JSONEncoder()
        let json = { (value: [String]) in String(decoding: try encoder.encode(value), as: UTF8.self) }
        let onConflict = replacing ? """
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash,
                redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris,
                grants = excluded.grants, scope = excluded.scope, audience = excluded.audience, access_token_ttl = excluded.access_token_ttl,
                source = excluded.source, updated_at = excluded.updated_at, auth_flows = excluded.auth_flows,
                refresh_rotation = excluded.refresh_rotation, retry_grace_seconds = excluded.retry_grace_seconds,
                secret_sealed = excluded.secret_sealed
            """ : ""
        try await sql.execute("""
            INSERT INTO clients (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grants, scope, audience, access_token_ttl, source, created_at, updated_at,
                                 auth_flows, refresh_rotation, retry_grace_seconds, secret_sealed)
            VALUES (\(client.id), \(client.name), \(client.secretHash?.stored), \(try json(client.redirectURIs)),
                    \(try json(client.postLogoutRedirectURIs)), \(try json(client.grants.map(\.rawValue).sorted())),
                    \(client.scope.description), \(client.audience), \(client.accessTokenTTL), \(source), \(client.createdAt.stored), \(now.stored),
                    \(try json(client.cognito.authFlows.map(\.rawValue).sorted())), \(client.cognito.refreshRotation ? "enabled" : "disabled"),
                    \(Int64(client.cognito.retryGraceSeconds)), \(client.cognito.sealedSecret.map { Data($0) }))
            \(unescaped: onConflict)
            """)
    }

    /// A client from ``clientColumns`` selected in their order.
    static func client(_ row: Cells) throws -> Client {
        let decode = { (column: Int) throws -> [String] in
            let text = try row.text(column)
            return text == "[]" ? [] : (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
        }
        return Client(
            id: try row.text(0), name: try row.text(1), secretHash: try row.optionalBytes(2).map { TokenHash(bytes: $0) },
            redirectURIs: try decode(3), postLogoutRedirectURIs: try decode(4),
            grants: Set(try decode(5).compactMap(GrantType.init(rawValue:))),
            scope: Scope(parsing: try row.text(6)) ?? Scope([]), audience: try row.optionalText(7), accessTokenTTL: try row.optionalDouble(8),
            createdAt: try row.date(9), source: ClientSource(rawValue: try row.text(10)) ?? .admin,
            cognito: CognitoAppSettings(
                authFlows: Set(try decode(11).compactMap(CognitoAuthFlow.init(rawValue:))), refreshRotation: try row.text(12) == "enabled",
                retryGraceSeconds: try row.int(13), sealedSecret: try row.optionalBytes(14)))
    }
}

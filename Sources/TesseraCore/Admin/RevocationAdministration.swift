import Foundation

/// The administrative revocations (`tessera admin revoke`, `POST /admin/v1/revoke`) and the
/// audit trail's reading (`tessera admin audit`, `GET /admin/v1/audit`): one implementation
/// for the CLI and the admin HTTP API. A user's global sign-out is
/// ``UserAdministration/signOut(_:actor:)``.
public struct RevocationAdministration: Sendable {
    public typealias Store = RefreshTokenStore & RevocationStore & ClientStore & AuditLog

    let store: any Store
    let settings: Settings
    let crypto: any CryptoPrimitives
    let now: Now

    public init(store: any Store, settings: Settings, crypto: any CryptoPrimitives, now: @escaping Now = { Date() }) {
        self.store = store
        self.settings = settings
        self.crypto = crypto
        self.now = now
    }

    /// The refresh-token family a presented token belongs to (to name it before revoking).
    public func family(of presented: String) async throws -> RefreshTokenFamily {
        guard let token = RefreshToken(presented: presented) else { throw AdminFailure.invalid("the token must be a refresh token (tsr_…)") }
        guard let family = try await store.family(containing: token.hash(using: crypto)) else { throw AdminFailure.notFound("no such refresh token") }
        return family
    }

    /// Revokes the whole family of a refresh token.
    public func revokeFamily(of presented: String, actor: String) async throws -> [String: Any] {
        let family = try await family(of: presented)
        _ = try await store.revokeFamily(containing: RefreshToken(presented: presented)!.hash(using: crypto), reason: "revoked by admin", now: now())
        try await store.recordAdminAction(actor: actor, action: "revoke.token", target: "family \(family.id)", details: nil, now: now())
        return ["revoked": "family", "family_id": family.id, "user_id": family.userID]
    }

    /// Checks that a client id names a registered client or the first-party one.
    public func checkClient(_ clientID: String) async throws {
        if clientID == FirstPartyClient.id { return }
        guard try await store.client(id: clientID) != nil else { throw AdminFailure.notFound("no client \(clientID)") }
    }

    /// Revokes every token issued to a client.
    public func revokeClient(_ clientID: String, actor: String) async throws -> [String: Any] {
        try await checkClient(clientID)
        let families = try await store.revokeClientTokens(clientID: clientID, now: now())
        try await store.recordAdminAction(actor: actor, action: "revoke.client", target: "client \(clientID)", details: "\(families) families", now: now())
        return ["revoked": "client", "client_id": clientID, "families": families]
    }

    /// Refuses one access token until it expires. Access tokens are not stored, so any jti is
    /// accepted and remembered for as long as any token can live.
    public func revokeAccessToken(jti: String, actor: String) async throws -> [String: Any] {
        guard (1...200).contains(jti.utf8.count) else { throw AdminFailure.invalid("jti must be 1 to 200 bytes") }
        let until = now().addingTimeInterval(try await settings.longestTokenLifetime(clients: store))
        try await store.revokeAccessToken(jti: jti, expiresAt: until, now: now())
        try await store.recordAdminAction(actor: actor, action: "revoke.jti", target: "jti \(jti)", details: nil, now: now())
        return ["revoked": "jti", "jti": jti]
    }

    /// Audit entries, newest first, older than the entry `after` when given.
    public func audit(limit: Int, after: Int64?) async throws -> [AuditEntry] {
        guard (1...10000).contains(limit) else { throw AdminFailure.invalid("limit must be between 1 and 10000") }
        return try await store.adminActions(limit: limit, before: after)
    }

    /// The CLI's `audit --json` shape of one entry.
    public static func json(_ entry: AuditEntry) -> [String: Any] {
        ["id": entry.id, "at": UserAdministration.timestamp(entry.at), "actor": entry.actor, "action": entry.action,
         "target": entry.target ?? "", "details": entry.details ?? ""]
    }
}

extension Settings {
    /// The longest an access or ID token can live: the server's lifetime or a client's own,
    /// whichever is longer. A retiring key stays published, and a revoked jti remembered, this long.
    public func longestTokenLifetime(clients: some ClientStore) async throws -> TimeInterval {
        let registered = try await clients.listClients().compactMap(\.accessTokenTTL)
        return ([accessTokenTTL] + registered + self.clients.compactMap(\.accessTokenTTL)).max()!
    }
}

import Foundation

/// A stored authorization code (only its hash), bound to client, redirect URI and challenge.
public struct AuthorizationCodeRecord: Sendable, Equatable {
    public var clientID: String
    public var userID: String
    public var redirectURI: String
    public var scope: String
    public var nonce: String?
    public var codeChallenge: String?
    public var authTime: Date
    public var sessionID: String?
    public var expiresAt: Date

    public init(clientID: String, userID: String, redirectURI: String, scope: String, nonce: String?, codeChallenge: String?, authTime: Date, sessionID: String?, expiresAt: Date) {
        self.clientID = clientID
        self.userID = userID
        self.redirectURI = redirectURI
        self.scope = scope
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.authTime = authTime
        self.sessionID = sessionID
        self.expiresAt = expiresAt
    }
}

/// What will be issued from a code, recorded as the code is consumed so that a replay can
/// revoke it (RFC 6749 §4.1.2).
public struct PlannedIssue: Sendable, Equatable {
    public var familyID: String?
    public var accessJTI: String
    public var accessExpiresAt: Date

    public init(familyID: String?, accessJTI: String, accessExpiresAt: Date) {
        self.familyID = familyID
        self.accessJTI = accessJTI
        self.accessExpiresAt = accessExpiresAt
    }
}

public enum CodeRedemption: Sendable, Equatable {
    case redeemed(AuthorizationCodeRecord)
    /// Presented again: what it issued is now revoked.
    case replayed
    /// Unknown, expired, or bound to another client; nothing changed.
    case refused(reason: String)
}

public protocol AuthorizationCodeStore: Sendable {
    func createCode(_ hash: TokenHash, _ record: AuthorizationCodeRecord, now: Date) async throws
    /// In one write transaction: refuses a code of another client (untouched) or an expired
    /// one; on a second presentation revokes the refresh family and access token the first
    /// one issued; otherwise marks it used and records `planned`.
    func redeemCode(_ hash: TokenHash, clientID: String, planned: @escaping @Sendable (AuthorizationCodeRecord) -> PlannedIssue, now: Date) async throws -> CodeRedemption
}

/// Server-side SSO sessions.
public protocol SSOSessionStore: Sendable {
    func createSession(id: String, tokenHash: TokenHash, userID: String, authTime: Date, expiresAt: Date, now: Date) async throws
    /// The live session for a cookie: not ended, not expired, its user active.
    func session(tokenHash: TokenHash, now: Date) async throws -> (id: String, user: User, authTime: Date)?
    func endSession(tokenHash: TokenHash, now: Date) async throws
}

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

/// What will be issued from a code, stored as the code is consumed, in the same transaction,
/// so that a replay — however close in time — finds it and revokes it (RFC 6749 §4.1.2).
public struct PlannedIssue: Sendable, Equatable {
    public var accessJTI: String
    public var accessExpiresAt: Date
    /// The refresh-token family to start (with `offline_access`), and the hash of its first token.
    public var family: RefreshTokenFamily?
    public var firstRefreshToken: TokenHash?

    public init(accessJTI: String, accessExpiresAt: Date, family: RefreshTokenFamily? = nil, firstRefreshToken: TokenHash? = nil) {
        self.accessJTI = accessJTI
        self.accessExpiresAt = accessExpiresAt
        self.family = family
        self.firstRefreshToken = firstRefreshToken
    }
}

/// What the grant decides about a current code of the right client, inside the transaction.
public enum CodeDecision: Sendable, Equatable {
    /// Issue: the plan is recorded (and its family stored) with the code marked used.
    case issue(PlannedIssue)
    /// Refuse (wrong verifier, redirect URI, user signed out …): the code is spent all the same.
    case refuse(OAuthError)
}

public enum CodeRedemption: Sendable, Equatable {
    /// Spent now, for this user, with the decision's plan stored.
    case redeemed(AuthorizationCodeRecord, User)
    /// Presented again: what it issued is now revoked.
    case replayed
    /// Unknown, expired, bound to another client (all untouched), or refused by the decision.
    case refused(OAuthError)
}

public protocol AuthorizationCodeStore: Sendable {
    func createCode(_ hash: TokenHash, _ record: AuthorizationCodeRecord, now: Date) async throws
    /// In one write transaction: refuses a code of another client (untouched) or an expired
    /// one; on a second presentation revokes the refresh family and access token the first
    /// one issued; otherwise asks `decide` (with the code's user as stored now, nil when gone),
    /// marks the code used and, when it says issue, records the plan and stores its family and
    /// first refresh token.
    func redeemCode(
        _ hash: TokenHash, clientID: String, decide: @escaping @Sendable (AuthorizationCodeRecord, User?) -> CodeDecision, now: Date
    ) async throws -> CodeRedemption
}

/// Server-side SSO sessions.
public protocol SSOSessionStore: Sendable {
    func createSession(id: String, tokenHash: TokenHash, userID: String, authTime: Date, expiresAt: Date, now: Date) async throws
    /// The live session for a cookie: not ended, not expired, its user active.
    func session(tokenHash: TokenHash, now: Date) async throws -> (id: String, user: User, authTime: Date)?
    func endSession(tokenHash: TokenHash, now: Date) async throws
}

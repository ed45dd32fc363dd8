import Foundation

/// Revocation state of access tokens, which are never stored themselves.
public protocol RevocationStore: Sendable {
    /// Remembers `jti` as revoked until `expiresAt` (after which the token is dead anyway).
    func revokeAccessToken(jti: String, expiresAt: Date, now: Date) async throws
    /// Whether `jti` is revoked, the token's user as stored now (nil if gone), whether its
    /// client is registered, the client's "not before" and, for a token that names its refresh
    /// family (`familyID`, the Cognito API's `origin_jti`), whether the family was revoked, in
    /// one read.
    func accessTokenStanding(jti: String, userID: String, clientID: String, familyID: String?) async throws -> AccessTokenStanding
    /// Revokes everything issued to a client: its refresh-token families, and its access tokens
    /// issued up to `now`. Returns the number of families revoked.
    @discardableResult
    func revokeClientTokens(clientID: String, now: Date) async throws -> Int
}

extension RevocationStore {
    /// The standing of a token that names no refresh family.
    public func accessTokenStanding(jti: String, userID: String, clientID: String) async throws -> AccessTokenStanding {
        try await accessTokenStanding(jti: jti, userID: userID, clientID: clientID, familyID: nil)
    }
}

/// What the database says about an access token at the moment it is presented.
public struct AccessTokenStanding: Sendable, Equatable {
    public var jtiRevoked: Bool
    public var user: User?
    /// Whether the client is in the registry (the built-in `tessera` never is).
    public var clientRegistered: Bool
    /// Access tokens of the client issued up to this instant are revoked.
    public var clientTokensNotBefore: Date?
    /// The token's refresh family (named by the token) was revoked.
    public var familyRevoked: Bool

    public init(jtiRevoked: Bool, user: User?, clientRegistered: Bool, clientTokensNotBefore: Date? = nil, familyRevoked: Bool = false) {
        self.familyRevoked = familyRevoked
        self.jtiRevoked = jtiRevoked
        self.user = user
        self.clientRegistered = clientRegistered
        self.clientTokensNotBefore = clientTokensNotBefore
    }
}

import Foundation

/// Revocation state of access tokens, which are never stored themselves.
public protocol RevocationStore: Sendable {
    /// Remembers `jti` as revoked until `expiresAt` (after which the token is dead anyway).
    func revokeAccessToken(jti: String, expiresAt: Date, now: Date) async throws
    /// Whether `jti` is revoked, and the token's user as stored now (nil if gone), in one read.
    func accessTokenStanding(jti: String, userID: String) async throws -> AccessTokenStanding
}

/// What the database says about an access token at the moment it is presented.
public struct AccessTokenStanding: Sendable, Equatable {
    public var jtiRevoked: Bool
    public var user: User?

    public init(jtiRevoked: Bool, user: User?) {
        self.jtiRevoked = jtiRevoked
        self.user = user
    }
}

import Foundation

/// The shared facts of every refresh token descended from one login.
public struct RefreshTokenFamily: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var clientID: String
    public var scope: String
    public var authTime: Date
    public var createdAt: Date
    /// Absolute: rotation never extends it.
    public var expiresAt: Date

    public init(id: String, userID: String, clientID: String, scope: String, authTime: Date, createdAt: Date, expiresAt: Date) {
        self.id = id
        self.userID = userID
        self.clientID = clientID
        self.scope = scope
        self.authTime = authTime
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// What presenting a refresh token led to.
public enum RotationOutcome: Sendable, Equatable {
    /// The token was current: it is now used and its successor stored.
    case rotated(RefreshTokenFamily, User)
    /// The token had already been rotated: the whole family is now revoked.
    case reused(familyID: String)
    /// Unknown, expired, revoked, or its user cannot sign in; nothing changed.
    case refused(reason: String)
}

/// Storage of refresh tokens (only their hashes) and their families.
public protocol RefreshTokenStore: Sendable {
    /// Stores a new family and its first token.
    func createFamily(_ family: RefreshTokenFamily, firstToken: TokenHash, now: Date) async throws

    /// Rotates atomically, in one write transaction: finds the presented token; if it was
    /// already used, revokes the family (and commits that); otherwise marks it used and
    /// stores `successor`. Of two concurrent rotations of one token exactly one succeeds.
    /// With `clientID`, a token of another client's family is refused and left untouched.
    /// Events: `user.refresh_token.reuse_detected` when a used token revoked its family.
    ///
    /// `prepare` gets the outcome as soon as it is decided, while the transaction commits (so
    /// that signing the answer overlaps the fsync); its answer is returned, or its error
    /// thrown, only after the commit. If the commit fails, its error is thrown instead.
    func rotate<Answer>(
        _ presented: TokenHash, successor: TokenHash, clientID: String?, now: Date,
        whileCommitting prepare: (RotationOutcome) async throws -> Answer
    ) async throws -> Answer

    /// Everything about a refresh token needed to tell whether it is active, in one read.
    func inspect(_ token: TokenHash) async throws -> RefreshTokenStanding?

    /// The family a token belongs to, if the token is known (read only).
    func family(containing token: TokenHash) async throws -> RefreshTokenFamily?

    /// Revokes the family of this token. Returns false when the token is unknown.
    @discardableResult
    func revokeFamily(containing token: TokenHash, reason: String, now: Date) async throws -> Bool
}

/// A refresh token as introspection sees it.
public struct RefreshTokenStanding: Sendable, Equatable {
    public var family: RefreshTokenFamily
    public var issuedAt: Date
    public var used: Bool
    public var familyRevoked: Bool
    public var user: User?

    public init(family: RefreshTokenFamily, issuedAt: Date, used: Bool, familyRevoked: Bool, user: User?) {
        self.family = family
        self.issuedAt = issuedAt
        self.used = used
        self.familyRevoked = familyRevoked
        self.user = user
    }
}

import Foundation

/// Where a signing key is in its life.
public enum SigningKeyState: String, Codable, Sendable, CaseIterable {
    /// Published in the JWKS, not signing yet: it becomes active at its `activateAfter`, once
    /// every server has had time to publish it (contract §10.2).
    case next
    /// Signs new tokens; published in the JWKS. Exactly one key is active.
    case active
    /// No longer signs; still published until every token it signed has expired.
    case retiring
    /// Neither signs nor is published.
    case retired
}

/// The database's record of one signing key. The private key itself lives in the keys dir,
/// in a PEM file; the record holds its state so that a rotation needs no restart.
public struct SigningKeyRecord: Sendable, Equatable {
    /// The RFC 7638 thumbprint of the public key.
    public var kid: String
    public var state: SigningKeyState
    public var createdAt: Date
    /// When a retiring key may be dropped from the JWKS (after every token it signed expired).
    public var retireAfter: Date?
    /// The public key as a JWK (JSON), so tokens it signed stay verifiable even if its PEM
    /// file is gone.
    public var publicJWK: String
    /// When a `next` key becomes active.
    public var activateAfter: Date?

    public init(kid: String, state: SigningKeyState, createdAt: Date, retireAfter: Date? = nil, publicJWK: String, activateAfter: Date? = nil) {
        self.kid = kid
        self.state = state
        self.createdAt = createdAt
        self.retireAfter = retireAfter
        self.publicJWK = publicJWK
        self.activateAfter = activateAfter
    }

    /// Whether the key belongs in the JWKS at `now`.
    public func isPublished(at now: Date) -> Bool {
        switch state {
        case .next, .active: true
        case .retiring: (retireAfter ?? .distantFuture) > now
        case .retired: false
        }
    }
}

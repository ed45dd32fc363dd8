import TesseraCore

/// Tokens a key ring verified recently, by their exact text, with their decoded claims.
///
/// The same access token is presented many times in its life: a resource server introspects
/// it on each API call, a client calls `/v1/me` with it. For a token seen before, the RSA
/// verification and the JSON decoding (about a third of `/v1/me`'s CPU) are skipped; the
/// checks that depend on the moment or the endpoint (`typ`, `exp`, `nbf`, `iss`, `aud`) and
/// the revocation checks still run on every presentation. Identical bytes carry the identical
/// signature, so nothing is trusted that was not verified. A cache belongs to one key set: the
/// ring starts an empty one whenever its keys change.
struct VerifiedTokens {
    /// At most this many tokens (about 1 KiB each); when full, the cache starts over.
    static let capacity = 4096

    private var entries: [String: any Sendable] = [:]

    func lookUp<Claims: RegisteredClaims>(_ token: String, as: Claims.Type) -> JWS.SignedClaims<Claims>? {
        entries[token] as? JWS.SignedClaims<Claims>
    }

    mutating func insert<Claims: RegisteredClaims>(_ token: String, _ verified: JWS.SignedClaims<Claims>) {
        if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
        entries[token] = verified
    }
}

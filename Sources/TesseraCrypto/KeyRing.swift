import Foundation
import Synchronization
import TesseraCore

/// The signing keys a running server uses: the active private key, the public keys that
/// still verify tokens, and the JWKS built from them once per change.
///
/// It is the crypto module's implementation of ``TokenSigner``, ``TokenVerifier`` and
/// ``KeySetPublisher``; ``replace(records:privateKeys:now:)`` swaps the whole set atomically,
/// so a rotation recorded in the database takes effect without a restart. It remembers the
/// tokens it verified (``VerifiedTokens``) for as long as its keys stay the same.
public final class KeyRing: TokenSigner, TokenVerifier, KeySetPublisher {
    struct Snapshot {
        var activeKid: String?
        var activeKey: RSAPrivateKey?
        var verificationKeys: [String: RSAPublicKey]
        var jwks: PublishedDocument
        var records: [SigningKeyRecord]
        /// Starts empty with every new key set.
        var verified = VerifiedTokens()
        /// Counts key sets, so a verification that raced a replacement is not cached in the next.
        var generation = 0
    }

    private let snapshot: Mutex<Snapshot>

    public init(records: [SigningKeyRecord], privateKeys: [String: RSAPrivateKey], now: Date) throws {
        snapshot = Mutex(try Self.makeSnapshot(records: records, privateKeys: privateKeys, now: now))
    }

    /// Replaces the key set with the given database records and loaded private keys.
    public func replace(records: [SigningKeyRecord], privateKeys: [String: RSAPrivateKey], now: Date) throws {
        var next = try Self.makeSnapshot(records: records, privateKeys: privateKeys, now: now)
        snapshot.withLock {
            next.generation = $0.generation + 1
            $0 = next
        }
    }

    /// The records the ring was last built from.
    public var records: [SigningKeyRecord] { snapshot.withLock { $0.records } }

    /// The kids currently published in the JWKS, sorted.
    public var publishedKids: [String] { snapshot.withLock { $0.verificationKeys.keys.sorted() } }

    /// The kid that signs new tokens.
    public var activeKid: String? { snapshot.withLock { $0.activeKid } }

    public var hasActiveKey: Bool { snapshot.withLock { $0.activeKey != nil } }

    public func jwks() -> PublishedDocument { snapshot.withLock { $0.jwks } }

    public func sign<Claims: Encodable>(_ claims: Claims, type: String) throws -> String {
        let (kid, key) = snapshot.withLock { ($0.activeKid, $0.activeKey) }
        guard let kid, let key else { throw CryptoError.openSSL("no active signing key") }
        return try JWS.sign(claims, type: type, kid: kid, key: key)
    }

    public func verify<Claims: RegisteredClaims>(
        _ token: String, as claims: Claims.Type, expecting: TokenExpectations
    ) throws(TokenError) -> Claims {
        let (keys, cached, generation) = snapshot.withLock { ($0.verificationKeys, $0.verified.lookUp(token, as: Claims.self), $0.generation) }
        if let cached {
            try JWS.check(cached, expecting: expecting)
            return cached.claims
        }
        let verified = try JWS.verifySignature(token, as: Claims.self) { keys[$0] }
        try JWS.check(verified, expecting: expecting)
        snapshot.withLock { if $0.generation == generation { $0.verified.insert(token, verified) } }
        return verified.claims
    }

    private static func makeSnapshot(
        records: [SigningKeyRecord], privateKeys: [String: RSAPrivateKey], now: Date
    ) throws -> Snapshot {
        let published = records.filter { $0.isPublished(at: now) }
        var verificationKeys: [String: RSAPublicKey] = [:]
        var jwks: [JWK] = []
        for record in published {
            let key = try privateKeys[record.kid]?.publicKey
                ?? RSAPublicKey(jwk: JSONDecoder().decode(JWK.self, from: Data(record.publicJWK.utf8)))
            verificationKeys[record.kid] = key
            jwks.append(key.jwk)
        }
        let active = records.first { $0.state == .active }
        let body = try JWS.encoder.encode(JWKSet(keys: jwks))
        return Snapshot(
            activeKid: active?.kid,
            activeKey: active.flatMap { privateKeys[$0.kid] },
            verificationKeys: verificationKeys,
            jwks: PublishedDocument(body: body),
            records: records
        )
    }
}

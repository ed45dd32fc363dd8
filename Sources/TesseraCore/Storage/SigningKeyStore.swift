import Foundation

/// A key found in the keys dir: its thumbprint and public JWK (JSON).
public struct SigningKeyMaterial: Sendable, Equatable {
    public var kid: String
    public var publicJWK: String

    public init(kid: String, publicJWK: String) {
        self.kid = kid
        self.publicJWK = publicJWK
    }
}

/// Storage of signing-key state, and (with a key-encryption key) of the private keys and the
/// other secrets every server sharing the database must hold alike, sealed.
public protocol SigningKeyStore: Sendable {
    /// Every recorded key, oldest first.
    func allSigningKeys() async throws -> [SigningKeyRecord]

    /// Records `key` as `next`: published at once, active from `activateAfter` on (see
    /// ``promoteNextSigningKey(now:retireAfter:)``). `sealedPrivateKey` is stored with it when
    /// the private keys live in the database.
    func addNextSigningKey(_ key: SigningKeyMaterial, sealedPrivateKey: [UInt8]?, activateAfter: Date, now: Date) async throws

    /// When a `next` key's time has come, in one transaction: the active key becomes `retiring`
    /// until `retireAfter` and the oldest due `next` key active. Returns whether one was promoted
    /// (of servers trying at once, exactly one promotes).
    @discardableResult
    func promoteNextSigningKey(now: Date, retireAfter: Date) async throws -> Bool

    /// Records `key` (with its sealed private key) as the active key when no key is active, in
    /// one transaction; otherwise changes nothing. Returns every record afterwards.
    func storeFirstSigningKey(_ key: SigningKeyMaterial, sealedPrivateKey: [UInt8], now: Date) async throws -> [SigningKeyRecord]

    /// The sealed private keys stored in the database, by kid (keys kept in the keys dir have none).
    func sealedPrivateKeys() async throws -> [String: [UInt8]]

    /// The sealed secret called `name`: the one stored, or `make()`'s, stored now when there was
    /// none (of servers starting at once, all end up with the first one stored).
    func sealedSecret(named name: String, orStore make: @Sendable () throws -> [UInt8]) async throws -> [UInt8]

    /// Reconciles the keys dir with the database, in one transaction so that two processes
    /// starting at once agree:
    /// - keys the database does not know yet are recorded as `retired`;
    /// - when no recorded key is active, or the active one is not among `present`, the
    ///   missing active key becomes `retiring` until `retireMissingAfter` and `preferred`
    ///   becomes active.
    /// Returns every record afterwards.
    func reconcileSigningKeys(
        present: [SigningKeyMaterial], preferred: String, retireMissingAfter: Date, now: Date
    ) async throws -> [SigningKeyRecord]
}

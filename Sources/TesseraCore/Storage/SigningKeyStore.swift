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

/// Storage of signing-key state.
public protocol SigningKeyStore: Sendable {
    /// Every recorded key, oldest first.
    func allSigningKeys() async throws -> [SigningKeyRecord]

    /// Reconciles the keys dir with the database, in one transaction so that two processes
    /// starting at once agree:
    /// - keys the database does not know yet are recorded as `retired`;
    /// - when no recorded key is active, or the active one is not among `present`, the
    ///   missing active key becomes `retiring` until `retireMissingAfter` and `preferred`
    ///   becomes active.
    /// Returns every record afterwards.
    /// Makes `new` the active key and the previously active one `retiring` until
    /// `retireAfter`, in one transaction.
    func rotateSigningKey(to new: SigningKeyMaterial, retireAfter: Date, now: Date) async throws

    func reconcileSigningKeys(
        present: [SigningKeyMaterial], preferred: String, retireMissingAfter: Date, now: Date
    ) async throws -> [SigningKeyRecord]
}

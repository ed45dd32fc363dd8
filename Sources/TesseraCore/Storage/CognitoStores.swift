import Foundation

/// A SigV4 access key of the Cognito API's admin operations (contract §11.2).
public struct AccessKeyRecord: Sendable, Equatable {
    public var id: String
    /// The secret access key, sealed: SigV4 needs its plaintext, so it cannot be hashed.
    public var sealedSecret: [UInt8]
    public var createdAt: Date

    public init(id: String, sealedSecret: [UInt8], createdAt: Date) {
        self.id = id
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
    }

    /// The context an access key's secret is sealed for.
    public static func sealingContext(id: String) -> String { "access-key:\(id)" }
}

/// Storage of SigV4 access keys.
public protocol AccessKeyStore: Sendable {
    /// Throws ``StorageError/alreadyExists`` when the id is taken.
    func createAccessKey(_ key: AccessKeyRecord) async throws
    func accessKey(id: String) async throws -> AccessKeyRecord?
    /// Every key, oldest first.
    func listAccessKeys() async throws -> [AccessKeyRecord]
    /// Returns false when there is no such key.
    func deleteAccessKey(id: String) async throws -> Bool
}

/// Storage of USER_SRP_AUTH verifiers (contract §11.6), sealed; one per user, gone with the user.
public protocol SRPVerifierStore: Sendable {
    func srpVerifier(userID: String) async throws -> [UInt8]?
    /// Stores or replaces the user's verifier; nothing happens for an unknown user.
    func storeSRPVerifier(userID: String, sealed: [UInt8], now: Date) async throws
}

/// One-time challenge answers (SRP's secret blocks): each is accepted once.
public protocol ChallengeStore: Sendable {
    /// Records `id` as spent until `expiresAt`; false when it already was.
    func spendChallenge(id: String, expiresAt: Date) async throws -> Bool
}

/// The successors of rotated refresh tokens, kept sealed for a client's retry grace
/// (contract §11.4).
public protocol RefreshRetryStore: Sendable {
    /// Remembers `sealedSuccessor` as what `token` rotated to, until `expiresAt`.
    func rememberSuccessor(of token: TokenHash, sealedSuccessor: [UInt8], expiresAt: Date) async throws
    /// What `token` rotated to, while its grace lasts.
    func rememberedSuccessor(of token: TokenHash, now: Date) async throws -> [UInt8]?
}

/// The context a user's SRP verifier is sealed for.
public func srpVerifierSealingContext(userID: String) -> String { "srp-verifier:\(userID)" }

import Foundation
import Logging
import TesseraCore
import TesseraCrypto

/// Keeps each user's USER_SRP_AUTH verifier (contract §11.6): computed from the plaintext
/// password whenever Tessera accepts one (bcrypt keeps none), sealed, stored. A stolen verifier
/// is cheaper to attack than a bcrypt hash: it is kept only while `cognito_srp` is on.
public struct SRPVerifiers: PasswordObserver {
    let store: any SRPVerifierStore
    let sealer: any SecretSealer
    let crypto: any CryptoPrimitives
    let poolSuffix: String
    let logger: Logger

    /// What a verifier is kept as: the salt and v = g^x mod N.
    struct Record {
        var salt: [UInt8]
        var verifier: [UInt8]

        var packed: [UInt8] { Packed.pack([salt, verifier]) }

        init(salt: [UInt8], verifier: [UInt8]) {
            self.salt = salt
            self.verifier = verifier
        }

        init?(packed: [UInt8]) {
            guard let fields = Packed.unpack(packed, count: 2) else { return nil }
            salt = fields[0]
            verifier = fields[1]
        }
    }

    public init(store: any SRPVerifierStore, sealer: any SecretSealer, crypto: any CryptoPrimitives, poolID: String, logger: Logger) {
        self.store = store
        self.sealer = sealer
        self.crypto = crypto
        poolSuffix = poolID.split(separator: "_", maxSplits: 1).last.map(String.init) ?? poolID
        self.logger = logger
    }

    public func passwordAccepted(user: User, password: String, onlyIfMissing: Bool) async {
        do {
            if onlyIfMissing, try await store.srpVerifier(userID: user.id) != nil { return }
            // A 16-byte salt whose first byte is not 0: its minimal hex is then its whole hex.
            var salt = crypto.randomBytes(16)
            if salt[0] == 0 { salt[0] = 1 }
            let record = Record(salt: salt, verifier: CognitoSRP.verifier(poolSuffix: poolSuffix, userID: user.id, password: password, salt: salt))
            let sealed = try sealer.seal(record.packed, context: srpVerifierSealingContext(userID: user.id))
            try await store.storeSRPVerifier(userID: user.id, sealed: sealed, now: Date())
        } catch {
            logger.warning("could not store an SRP verifier", metadata: ["user.id": "\(user.id)", "error": "\(error)"])
        }
    }

    /// The user's salt and verifier, if one is kept.
    func record(userID: String) async throws -> Record? {
        guard let sealed = try await store.srpVerifier(userID: userID) else { return nil }
        return Record(packed: try sealer.open(sealed, context: srpVerifierSealingContext(userID: userID)))
    }
}

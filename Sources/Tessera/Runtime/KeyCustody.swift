import Foundation
import Logging
import TesseraCore
import TesseraCrypto

/// Where a server's private keys and shared secrets (the code secret, the webhook sealing key)
/// live: in the keys dir (the SQLite default), or — with a `key_encryption_key` — in the
/// database, sealed under it, so that every instance of a deployment holds the same ones
/// (contract §10.2). PostgreSQL requires the latter.
struct KeyCustody: Sendable {
    enum Place: Sendable {
        case directory(KeyDirectory)
        case database(KeyEncryption)
    }

    let place: Place
    let storage: any SigningKeyStore

    /// The custody the settings ask for. A PostgreSQL database without a key-encryption key is
    /// refused: instances sharing it could not share one keys dir's files safely.
    init(_ settings: Settings, storage: any SigningKeyStore) throws {
        self.storage = storage
        if let text = settings.keyEncryptionKey {
            do {
                place = .database(try KeyEncryption(parsing: text))
            } catch {
                throw StartupError("key_encryption_key: \(error.description)")
            }
        } else if case .postgres = try? DatabaseLocation(settings.database) {
            throw StartupError("""
                a PostgreSQL database keeps the signing keys and shared secrets in the database, sealed: set key_encryption_key \
                (base64 of 32 random bytes, the same on every instance; make one with: openssl rand -base64 32)
                """)
        } else {
            place = .directory(KeyDirectory(path: settings.keysDir))
        }
    }

    /// The authenticated context a key's private half is sealed for.
    static func context(kid: String) -> String { "signing-key:\(kid)" }

    /// The private keys of the published records: from the keys dir, or opened from the database.
    func privateKeys() async throws -> [String: RSAPrivateKey] {
        switch place {
        case .directory(let directory):
            let loaded = try directory.load()
            return Dictionary(loaded.map { ($0.kid, $0.key) }, uniquingKeysWith: { first, _ in first })
        case .database(let encryption):
            var keys: [String: RSAPrivateKey] = [:]
            for (kid, sealed) in try await storage.sealedPrivateKeys() {
                let pem = try encryption.open(sealed, context: Self.context(kid: kid))
                keys[kid] = try RSAPrivateKey(pem: String(decoding: pem, as: UTF8.self))
            }
            return keys
        }
    }

    /// A new key, kept where this custody keeps keys (a PEM file, or sealed for the database).
    func generate() throws -> (key: RSAPrivateKey, sealed: [UInt8]?, file: String?) {
        switch place {
        case .directory(let directory):
            let generated = try directory.generate()
            return (generated.key, nil, generated.file.path)
        case .database(let encryption):
            let key = try RSAPrivateKey.generate()
            let kid = key.publicKey.jwk.kid!
            return (key, try encryption.seal(Array(try key.pkcs8PEM().utf8), context: Self.context(kid: kid)), nil)
        }
    }

    /// The key-encryption keys, when the keys are in the database.
    var encryption: KeyEncryption? {
        if case .database(let encryption) = place { return encryption }
        return nil
    }

    /// 32 secret bytes shared by every server: read from the keys dir by `fromDirectory`, or
    /// stored once in the database under `name`, sealed.
    func sharedSecret(name: String, fromDirectory: (KeyDirectory) throws -> [UInt8]) async throws -> [UInt8] {
        switch place {
        case .directory(let directory):
            return try fromDirectory(directory)
        case .database(let encryption):
            let context = "stored-secret:\(name)"
            let sealed = try await storage.sealedSecret(named: name) {
                try encryption.seal(OpenSSLPrimitives().randomBytes(32), context: context)
            }
            return try encryption.open(sealed, context: context)
        }
    }

    /// The secret one-time codes are hashed under (contract §8.2).
    func codeSecret() async throws -> CodeSecret {
        CodeSecret(bytes: try await sharedSecret(name: "code_secret") { try $0.loadOrCreateCodeSecret().bytes })
    }

    /// The sealer of every secret kept at rest because a protocol needs its plaintext: webhook
    /// signing secrets, client secrets (`SECRET_HASH`), SigV4 access-key secrets, SRP verifiers.
    /// One key (the keys dir's `sealing.key`, or shared in the database); each secret is sealed
    /// for a context naming its kind and owner, so none opens as another.
    func secretSealer() async throws -> AESGCMSealer {
        AESGCMSealer(key: Array(try await sharedSecret(name: "webhook_sealing_key") { try $0.loadOrCreateSealingKey() }.prefix(32)))
    }

    /// The sealer of webhook signing secrets at rest (``secretSealer()``).
    func webhookSealer() async throws -> AESGCMSealer { try await secretSealer() }
}

/// New keys where the settings keep keys, for ``KeyAdministration``.
struct CustodyKeyGenerator: SigningKeyGenerator {
    let custody: KeyCustody

    func generate() throws -> GeneratedSigningKey {
        let generated: (key: RSAPrivateKey, sealed: [UInt8]?, file: String?)
        do {
            generated = try custody.generate()
        } catch let error as KeyDirectory.Failure {
            throw StartupError(error.description)
        }
        let material = SigningKeyMaterial(kid: generated.key.publicKey.jwk.kid!, publicJWK: generated.key.publicKey.jwk.jsonString())
        return GeneratedSigningKey(material: material, sealedPrivateKey: generated.sealed, file: generated.file)
    }
}

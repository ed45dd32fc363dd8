import Foundation

/// A new signing key, made where the settings keep keys (a keys-dir file, or sealed for the
/// database): what ``KeyAdministration/rotate(actor:)`` publishes.
public struct GeneratedSigningKey: Sendable {
    public let material: SigningKeyMaterial
    /// The private key sealed for the database, when keys live there.
    public let sealedPrivateKey: [UInt8]?
    /// The key's file, when keys live in a keys dir.
    public let file: String?

    public init(material: SigningKeyMaterial, sealedPrivateKey: [UInt8]?, file: String?) {
        self.material = material
        self.sealedPrivateKey = sealedPrivateKey
        self.file = file
    }
}

/// Makes signing keys; the composition root's key custody.
public protocol SigningKeyGenerator: Sendable {
    func generate() throws -> GeneratedSigningKey
}

/// Listing and rotating signing keys (`tessera admin keys`, `/admin/v1/keys`): one
/// implementation for the CLI and the admin HTTP API.
public struct KeyAdministration: Sendable {
    public typealias Store = SigningKeyStore & AuditLog

    let store: any Store
    let settings: Settings
    let generator: (any SigningKeyGenerator)?
    let now: Now

    public init(store: any Store, settings: Settings, generator: (any SigningKeyGenerator)?, now: @escaping Now = { Date() }) {
        self.store = store
        self.settings = settings
        self.generator = generator
        self.now = now
    }

    /// Every key with the state a reader sees now (a retiring key no longer published reads
    /// `retired`), as `keys list --json` prints it.
    public func list() async throws -> [[String: Any]] {
        let now = now()
        return try await store.allSigningKeys().map { key in
            let state = key.state == .retiring && !key.isPublished(at: now) ? SigningKeyState.retired : key.state
            var json: [String: Any] = ["kid": key.kid, "state": state.rawValue, "created_at": UserAdministration.timestamp(key.createdAt)]
            json["retire_after"] = key.retireAfter.map(UserAdministration.timestamp)
            return json
        }
    }

    /// A new key: published at once, signing after the activation delay (so every instance's
    /// JWKS carries it before any token does); the old one stays published until its tokens
    /// expire. Returns `keys rotate --json`'s shape.
    public func rotate(actor: String) async throws -> [String: Any] {
        guard let generator else { throw AdminFailure.conflict("this process cannot make signing keys") }
        let generated = try generator.generate()
        let now = now()
        let activateAfter = now.addingTimeInterval(settings.keyActivationDelay)
        try await store.addNextSigningKey(generated.material, sealedPrivateKey: generated.sealedPrivateKey, activateAfter: activateAfter, now: now)
        try await store.recordAdminAction(actor: actor, action: "keys.rotate", target: "key \(generated.material.kid)", details: nil, now: now)
        var json: [String: Any] = ["kid": generated.material.kid, "state": "next", "activate_after": UserAdministration.timestamp(activateAfter)]
        json["file"] = generated.file
        return json
    }
}

import Foundation

/// How a client presented itself at an endpoint that authenticates clients.
public struct ClientCredentials: Sendable {
    public var clientID: String
    public var secret: String?

    public init(clientID: String, secret: String?) {
        self.clientID = clientID
        self.secret = secret
    }
}

/// Finds clients (the built-in first-party client `tessera`, then the registry) and
/// authenticates them: `client_secret_basic` / `client_secret_post` for confidential clients
/// (SHA-256 of the secret compared in constant time), `none` for public ones.
public struct ClientRegistry: Sendable {
    let store: any ClientStore
    let settings: Settings
    let crypto: any CryptoPrimitives

    public init(store: any ClientStore, settings: Settings, crypto: any CryptoPrimitives) {
        self.store = store
        self.settings = settings
        self.crypto = crypto
    }

    /// The built-in client `/v1/login` acts for (contract §4): public, password and refresh.
    public static let firstParty = Client(
        id: FirstPartyClient.id, name: "Tessera first-party API", secretHash: nil,
        grants: [.password, .refreshToken], scope: FirstPartyClient.allowedScope, createdAt: Date(timeIntervalSince1970: 0))

    public func client(id: String) async throws -> Client? {
        id == FirstPartyClient.id ? Self.firstParty : try await store.client(id: id)
    }

    /// The `aud` of access tokens issued to `client`.
    public func audience(for client: Client) -> String {
        client.audience ?? settings.firstPartyAudience
    }

    /// Authenticates the client or throws `invalid_client`.
    public func authenticate(_ credentials: ClientCredentials) async throws -> Client {
        guard let client = try await client(id: credentials.clientID) else {
            throw OAuthError.invalidClient(reason: "unknown client")
        }
        switch (client.secretHash, credentials.secret) {
        case (nil, nil):
            return client
        case (nil, .some):
            throw OAuthError.invalidClient(reason: "public client presented a secret")
        case (.some, nil):
            throw OAuthError.invalidClient(reason: "confidential client without a secret")
        case (.some(let expected), .some(let secret)):
            let presented = ClientSecret(presented: secret).hash(using: crypto)
            guard constantTimeEquals(presented.bytes, expected.bytes) else {
                throw OAuthError.invalidClient(reason: "wrong secret")
            }
            return client
        }
    }
}

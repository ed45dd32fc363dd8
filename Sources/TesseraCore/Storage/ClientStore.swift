import Foundation

/// Storage of the client registry.
public protocol ClientStore: Sendable {
    func client(id: String) async throws -> Client?
    /// Registers a new client; ``StorageError/alreadyExists`` if the id is taken.
    func createClient(_ client: Client, now: Date) async throws
    /// Makes the registry match the config file, in one transaction: each of `declared` is
    /// created or replaced (secret included), and every config-sourced client not among them
    /// is deleted with its tokens revoked. Returns the ids deleted.
    @discardableResult
    func syncConfiguredClients(_ declared: [Client], now: Date) async throws -> [String]
    func listClients() async throws -> [Client]
    /// Deletes a client and revokes every refresh-token family issued to it.
    /// Throws ``StorageError/notFound`` for an unknown client.
    func deleteClient(id: String, now: Date) async throws
    /// Replaces a confidential client's secret (its hash, and sealed for the Cognito API's
    /// `SECRET_HASH`). Throws ``StorageError/notFound``.
    func replaceClientSecret(id: String, hash: TokenHash, sealed: [UInt8]?, now: Date) async throws
}

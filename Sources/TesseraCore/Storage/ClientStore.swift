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
    /// Changes a client in one transaction: `change` is given the client as stored now and
    /// returns it changed, or nil to leave it (a precondition did not hold); what it throws
    /// changes nothing. Written: the name, redirect URIs, grants, scope, audience, token
    /// lifetime and Cognito settings (never the id, secret, source or creation time).
    func updateClient(id: String, now: Date, _ change: @escaping @Sendable (Client) throws -> Client?) async throws -> ClientUpdateOutcome
}

/// What ``ClientStore/updateClient(id:now:_:)`` came to.
public enum ClientUpdateOutcome: Sendable {
    case updated(Client)
    /// The change declined; nothing was written. The client as it is.
    case refused(Client)
    case notFound
}

import Foundation

/// Storage of the client registry.
public protocol ClientStore: Sendable {
    func client(id: String) async throws -> Client?
    /// Registers a new client; ``StorageError/alreadyExists`` if the id is taken.
    func createClient(_ client: Client, now: Date) async throws
    /// Creates or replaces a client declared in the config file (kept in step at each start).
    func upsertConfiguredClient(_ client: Client, now: Date) async throws
}

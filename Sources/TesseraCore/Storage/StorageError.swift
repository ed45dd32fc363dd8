/// Failures every storage backend reports the same way.
public enum StorageError: Error, Equatable, Sendable {
    /// A unique key (an email, an id) is already taken.
    case alreadyExists
    case notFound
    /// The database cannot be reached now (a lost connection, a server shutting down); the
    /// request may be tried again later. `reason` is for logs, never for clients.
    case unavailable(reason: String)
}

/// Failures every storage backend reports the same way.
public enum StorageError: Error, Equatable, Sendable {
    /// A unique key (an email, an id) is already taken.
    case alreadyExists
    case notFound
}

import Foundation

/// A user as the system Tessera replaces knows it, returned by a ``UserMigrationHook``.
public struct MigratedUser: Sendable, Equatable {
    /// The id to keep (Cognito's `sub`); nil for a new random one.
    public var id: String?
    public var emailVerified: Bool
    public var attributes: [String: String]
    /// Groups the user belongs to there; missing ones are created.
    public var groups: [String]

    public init(id: String?, emailVerified: Bool, attributes: [String: String], groups: [String] = []) {
        self.id = id
        self.emailVerified = emailVerified
        self.attributes = attributes
        self.groups = groups
    }
}

/// Lazy migration (contract §11.7), like Cognito's UserMigration trigger: asked when a
/// sign-in (any path) names an address Tessera does not know, or a user imported without a
/// password, and when a recovery names an unknown address. What it returns is stored at once,
/// in the same request, with the typed password's hash; the sign-in then completes.
///
/// Return nil when the old system does not know the address or refuses the password: the
/// caller then fails exactly like any failed sign-in. Throw when the old system cannot be
/// asked (down, slow, an unexpected answer): the caller answers 503 `migration_unavailable`
/// and stores nothing. A hook that runs longer than `hook_timeout` counts as thrown.
///
/// ```swift
/// struct FromLegacyDatabase: UserMigrationHook {
///     func signIn(email: String, password: String) async throws -> MigratedUser? {
///         guard let row = try await legacy.user(email: email), row.checks(password) else { return nil }
///         return MigratedUser(id: row.uuid, emailVerified: row.verified, attributes: ["name": row.name])
///     }
///     func recover(email: String) async throws -> MigratedUser? {
///         try await legacy.user(email: email).map { MigratedUser(id: $0.uuid, emailVerified: $0.verified, attributes: [:]) }
///     }
/// }
/// ```
public protocol UserMigrationHook: Sendable {
    /// A stable name for logs.
    var name: String { get }
    /// The user whose old password `password` is, under `email`; nil when there is none.
    func signIn(email: String, password: String) async throws -> MigratedUser?
    /// The user `email` names in the old system (a recovery code is then mailed); nil when none.
    func recover(email: String) async throws -> MigratedUser?
}

extension UserMigrationHook {
    public var name: String { String(describing: Self.self) }
}

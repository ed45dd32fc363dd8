import Foundation

/// A committed new user, as a post-sign-up hook receives it.
public struct SignedUpUser: Sendable, Equatable {
    public let id: String
    public let email: String
    public let attributes: [String: String]
    public let status: UserStatus

    public init(id: String, email: String, attributes: [String: String], status: UserStatus) {
        self.id = id
        self.email = email
        self.attributes = attributes
        self.status = status
    }
}

/// Runs after the user is committed (welcome mail, CRM sync, …). A run is recorded in the
/// sign-up's own transaction, so it survives a crash; a throw or a timeout is recorded and
/// retried with exponential backoff (`hook_retry_base_delay` doubling), also after a restart,
/// until it succeeds or `hook_max_attempts` is reached and it is dead-lettered, where
/// `tessera admin hooks failed` lists it and `tessera admin hooks retry` re-queues it.
///
/// Runs are identified by ``name``: keep it stable across releases so pending runs find
/// their hook after an upgrade. A hook may run more than once for one user (at-least-once):
/// make it idempotent.
public protocol PostSignUpHook: Sendable {
    /// A stable, unique name; recorded with each run.
    var name: String { get }
    func afterSignUp(_ user: SignedUpUser) async throws
}

extension PostSignUpHook {
    public var name: String { String(describing: Self.self) }
}

/// The hooks a server runs, each kind in registration order.
public struct Hooks: Sendable {
    public var preSignUp: [any PreSignUpHook]
    public var postSignUp: [any PostSignUpHook]
    /// Lazy migration from the system Tessera replaces (contract §11.7), if any.
    public var userMigration: (any UserMigrationHook)?

    public init(preSignUp: [any PreSignUpHook] = [], postSignUp: [any PostSignUpHook] = [], userMigration: (any UserMigrationHook)? = nil) {
        self.preSignUp = preSignUp
        self.postSignUp = postSignUp
        self.userMigration = userMigration
    }

    /// No hooks.
    public static let none = Hooks()
}

import Foundation
import Logging

/// Lazy migration (contract §11.7): asks the ``UserMigrationHook`` about an address Tessera
/// cannot sign in, and stores what it vouches for in the same request, through the import's
/// store (``UserImportStore``), so a migrated user is created exactly as an imported one: its
/// id kept, `user.created` in the same transaction, never half a user. Used by the sign-ins
/// (``AccountService``) and recovery (``LifecycleService``).
public struct UserMigration: Sendable {
    let hook: any UserMigrationHook
    let store: any UserStore & UserImportStore
    let timeout: TimeInterval
    let crypto: any CryptoPrimitives
    let now: Now
    let logger: Logger

    public init(
        hook: any UserMigrationHook, store: any UserStore & UserImportStore, timeout: TimeInterval, crypto: any CryptoPrimitives,
        now: @escaping Now, logger: Logger
    ) {
        self.hook = hook
        self.store = store
        self.timeout = timeout
        self.crypto = crypto
        self.now = now
        self.logger = logger
    }

    /// Whether a stored user still waits for its password from the old system: imported
    /// without a hash (and not since given one by a recovery).
    public static func awaitsPassword(_ user: User) -> Bool {
        user.passwordHash == nil && user.passwordState == .resetRequired
    }

    /// Asks the hook whether `password` is the old password for `address`. Returns the
    /// migrated user (created, or `existing` given its password), or nil when the old system
    /// says no. `hash` makes the password's hash, only once the old system said yes.
    /// `verify` checks the password against a hash stored by a concurrent first sign-in that
    /// won. Throws ``AccountError/migrationUnavailable`` when the old system cannot be asked.
    func signIn(
        address: EmailAddress, password: Password, existing: User?, hash: () async throws -> String,
        verify: (String) async throws -> Bool
    ) async throws -> User? {
        let (hook, email, text) = (hook, address.display, password.text)
        let found = try await ask("sign-in") { try await hook.signIn(email: email, password: text) }
        guard let found else { return nil }
        let hash = try await hash()
        if let existing {
            if let adopted = try await store.adoptPassword(userID: existing.id, hash: hash, now: now()) {
                logger.notice("user migrated at sign-in: password adopted", metadata: ["user.id": "\(adopted.id)", "hook": "\(hook.name)"])
                return adopted
            }
            return try await winner(address, verify: verify)
        }
        guard let created = try await create(found, address: address, hash: hash) else { return try await winner(address, verify: verify) }
        logger.notice("user migrated at sign-in", metadata: ["user.id": "\(created.id)", "hook": "\(hook.name)"])
        return created
    }

    /// Asks the hook about an address a recovery names; creates the user without a password
    /// (it sets one with the code). Returns whether a user now has the address.
    func recover(address: EmailAddress) async throws -> Bool {
        let (hook, email) = (hook, address.display)
        guard let found = try await ask("recovery", { try await hook.recover(email: email) }) else { return false }
        if let created = try await create(found, address: address, hash: nil) {
            logger.notice("user migrated at recovery", metadata: ["user.id": "\(created.id)", "hook": "\(hook.name)"])
            return true
        }
        return try await store.user(email: address.key) != nil
    }

    private func ask(_ purpose: String, _ call: @escaping @Sendable () async throws -> MigratedUser?) async throws -> MigratedUser? {
        do {
            return try await withTimeout(seconds: timeout, call)
        } catch {
            logger.error("user migration hook failed", metadata: [
                "hook": "\(hook.name)", "purpose": "\(purpose)",
                "error": "\(error is TimeoutError ? "timeout" : String(describing: type(of: error)))",
            ])
            throw AccountError.migrationUnavailable
        }
    }

    /// Stores what the hook returned as an import of one user; nil when the address or id
    /// was taken meanwhile (a concurrent first sign-in won). A user the import rules refuse
    /// (an erased id) is never created: the sign-in fails as unavailable, not as a wrong
    /// password.
    private func create(_ found: MigratedUser, address: EmailAddress, hash: String?) async throws -> User? {
        var record = ImportRecord()
        record.userID = found.id
        record.email = address.display
        record.emailVerified = found.emailVerified
        record.status = .active
        record.attributes = found.attributes
        record.groups = found.groups.filter(UserGroup.isValidName)
        record.passwordHash = hash
        let user: ImportedUser
        do throws(ImportProblem) {
            user = try record.checked { RandomIdentifier.make(using: crypto) }
        } catch {
            logger.error("user migration hook returned a user that cannot be stored", metadata: ["hook": "\(hook.name)", "problem": "\(error.message)"])
            throw AccountError.migrationUnavailable
        }
        let outcome = try await store.importUsers([user], dryRun: false, now: now()).first
        switch outcome {
        case .created: return try await store.user(id: user.id)
        case .refused(let reason) where try await store.user(email: address.key) == nil:
            logger.error("a migrated user could not be stored", metadata: ["hook": "\(hook.name)", "reason": "\(reason)"])
            throw AccountError.migrationUnavailable
        default: return nil
        }
    }

    /// The user a concurrent first sign-in created, when `password` matches what it stored.
    private func winner(_ address: EmailAddress, verify: (String) async throws -> Bool) async throws -> User? {
        guard let user = try await store.user(email: address.key), let stored = user.passwordHash else { return nil }
        return try await verify(stored) ? user : nil
    }
}

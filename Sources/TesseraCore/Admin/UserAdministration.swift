import Foundation

/// Why an administrative action was refused. The admin CLI maps these to its exit codes, the
/// admin HTTP API to statuses (contract §6, §12.4).
public enum AdminFailure: Error, Equatable, CustomStringConvertible {
    /// No such user, client or token (CLI exit 1, HTTP 404).
    case notFound(String)
    /// What a create would make exists already (CLI exit 1, HTTP 409).
    case alreadyExists(String)
    /// The input is not acceptable: an address, a weak password (CLI exit 2, HTTP 400).
    case invalid(String)
    /// The target's state does not allow it: a disabled user asked for a recovery code (CLI exit 1, HTTP 409).
    case conflict(String)
    /// A conditional change came without `If-Match` (HTTP 428).
    case preconditionRequired(String)
    /// The target changed since the caller read it: `If-Match` names another version (HTTP
    /// 412, with the current ETag).
    case preconditionFailed(String, currentETag: String)

    public var description: String {
        switch self {
        case .notFound(let message), .alreadyExists(let message), .invalid(let message), .conflict(let message), .preconditionRequired(let message),
             .preconditionFailed(let message, _): message
        }
    }
}

/// Scopes of the admin HTTP API (contract §12.4): granted only to confidential clients
/// registered with them, only through `client_credentials`.
public enum AdminScope {
    public static let users = "admin:users"
    public static let clients = "admin:clients"
    public static let keys = "admin:keys"
    public static let revoke = "admin:revoke"
    public static let groups = "admin:groups"
    public static let webhooks = "admin:webhooks"
    public static let audit = "admin:audit"

    /// Whether a scope token is an admin scope (any `admin:` token, known or not).
    public static func isAdmin(_ token: String) -> Bool { token.hasPrefix("admin:") }
}

/// The administrative actions on users: one implementation, called by the admin CLI (`tessera
/// admin users …`, `revoke --user`) and the admin HTTP API (`/admin/v1/users`). Each change is
/// written to the audit log with the actor the adapter names (the operating-system user, or
/// the calling client).
public struct UserAdministration: Sendable {
    public typealias Store = UserStore & EmailStore & AuditLog

    let store: any Store
    let passwords: PasswordHashing
    let bcryptCost: Int
    let crypto: any CryptoPrimitives
    let now: Now

    public init(store: any Store, hasher: any PasswordHasher, bcryptCost: Int, crypto: any CryptoPrimitives, now: @escaping Now = { Date() }) {
        self.store = store
        self.passwords = PasswordHashing(hasher: hasher, crypto: crypto)
        self.bcryptCost = bcryptCost
        self.crypto = crypto
        self.now = now
    }

    /// A page of users in creation order, after the user `after`.
    public func list(limit: Int, after: String?, emailPrefix: String?, status: UserStatus?) async throws -> [User] {
        guard (1...1000).contains(limit) else { throw AdminFailure.invalid("limit must be between 1 and 1000") }
        do {
            return try await store.listUsers(limit: limit, after: after, emailPrefix: emailPrefix, status: status)
        } catch StorageError.notFound {
            throw AdminFailure.notFound("no user \(after ?? "") to continue after")
        }
    }

    /// The user named by an address (it holds `@`) or an id.
    public func user(_ emailOrID: String) async throws -> User {
        let found = emailOrID.contains("@") ? try await store.user(email: emailOrID) : try await store.user(id: emailOrID)
        guard let found else { throw AdminFailure.notFound("no user \(emailOrID)") }
        return found
    }

    /// A user and their addresses, primary first.
    public func details(of user: User) async throws -> (user: User, emails: [AccountEmail]) {
        (user, try await store.emails(userID: user.id))
    }

    /// Checks a password against the policy and hashes it at the configured cost.
    public func hash(password: String) async throws -> String {
        let checked: Password
        do { checked = try PasswordPolicy.validate(password) } catch { throw AdminFailure.invalid("weak password: \(error)") }
        return try await passwords.hash(checked, cost: bcryptCost, priority: .other)
    }

    /// A new user: active when `confirmed`, else unconfirmed; without a password until one is set.
    public func create(email: String, password: String?, confirmed: Bool, actor: String) async throws -> User {
        guard let address = EmailAddress(email) else { throw AdminFailure.invalid("\(email) is not a valid email address") }
        let hash = try await password.asyncMap { try await self.hash(password: $0) }
        let now = now()
        let user = User(
            id: RandomIdentifier.make(using: crypto), email: address.display, emailVerified: false, passwordHash: hash,
            status: confirmed ? .active : .unconfirmed, attributes: [:], createdAt: now, updatedAt: now)
        do {
            try await store.createUser(user, postSignUpHooks: [], verification: nil, now: now)
        } catch StorageError.alreadyExists {
            throw AdminFailure.alreadyExists("a user with email \(address.display) already exists")
        }
        try await audit(actor, "users.create", user)
        return user
    }

    /// Enables a user, or disables one and revokes everything they hold.
    public func setStatus(_ user: User, _ status: UserStatus, actor: String) async throws {
        try await store.setStatus(userID: user.id, status, now: now())
        try await audit(actor, status == .disabled ? "users.disable" : "users.enable", user)
    }

    /// Marks the primary address verified; an unconfirmed user becomes active.
    public func verifyEmail(of user: User, actor: String) async throws -> User {
        let verified = try await store.markEmailVerified(userID: user.id, now: now())
        try await audit(actor, "users.verify-email", user)
        return verified
    }

    /// Sets the password (checked and hashed here) and revokes every token the user holds.
    public func setPassword(of user: User, to password: String, actor: String) async throws {
        let hash = try await hash(password: password)
        try await store.setPassword(userID: user.id, hash: hash, now: now())
        try await audit(actor, "users.set-password", user)
    }

    /// Queues a recovery code for the user now, without the resend limits.
    public func sendRecovery(to user: User, using lifecycle: LifecycleService, actor: String) async throws {
        guard try await lifecycle.sendRecovery(to: user) else { throw AdminFailure.conflict("user \(user.id) is disabled; enable it first") }
        try await audit(actor, "users.send-recovery", user)
    }

    /// Global sign-out: every refresh token, access token and SSO session of the user.
    public func signOut(_ user: User, actor: String) async throws {
        try await store.revokeAllTokens(userID: user.id, now: now())
        try await audit(actor, "revoke.user", user)
    }

    /// Deletes the user's personal data and everything they hold; the audit log keeps the id.
    public func delete(_ user: User, actor: String) async throws {
        try await store.deleteUser(id: user.id, farewell: nil, now: now())
        try await audit(actor, "users.delete", user)
    }

    /// A JSON merge of the user's attributes (null removes one), only if the profile still has
    /// the entity tag in `ifMatch` (required).
    public func updateAttributes(of user: User, ifMatch: String?, changes: [String: String?], using accounts: AccountService, actor: String) async throws -> User {
        let updated: User
        do {
            updated = try await accounts.updateAttributes(of: user.id, ifMatch: ifMatch, changes: changes)
        } catch is BearerError {
            throw AdminFailure.notFound("no user \(user.id)")
        }
        try await audit(actor, "users.update", user, details: changes.keys.sorted().joined(separator: ","))
        return updated
    }

    private func audit(_ actor: String, _ action: String, _ user: User, details: String? = nil) async throws {
        try await store.recordAdminAction(actor: actor, action: action, target: "user \(user.id)", details: details, now: now())
    }

    // MARK: Shapes (the CLI's `--json`, which the admin HTTP API answers with as well)

    /// RFC 3339 in UTC to the second, as the admin CLI has always printed times.
    public static func timestamp(_ date: Date) -> String {
        let time = UTCTime(date)
        return "\(UTCTime.pad(time.year, 4))-\(UTCTime.pad(time.month, 2))-\(UTCTime.pad(time.day, 2))T"
            + "\(UTCTime.pad(time.hour, 2)):\(UTCTime.pad(time.minute, 2)):\(UTCTime.pad(time.second, 2))Z"
    }

    /// `{"user_id","email","status","created_at"}`.
    public static func summary(_ user: User) -> [String: Any] {
        ["user_id": user.id, "email": user.email, "status": user.status.rawValue, "created_at": timestamp(user.createdAt)]
    }

    /// The summary with the address state, attributes, update time and whether a password is set.
    public static func detail(_ user: User, emails: [AccountEmail]) -> [String: Any] {
        var json = summary(user)
        json["email_verified"] = user.emailVerified
        json["attributes"] = user.attributes
        json["updated_at"] = timestamp(user.updatedAt)
        json["has_password"] = user.passwordHash != nil
        json["emails"] = emails.map { ["email": $0.email, "primary": $0.primary, "verified": $0.verified] as [String: Any] }
        return json
    }
}

extension Optional {
    /// `map` with an asynchronous, throwing transform.
    func asyncMap<Mapped>(_ transform: (Wrapped) async throws -> Mapped) async rethrows -> Mapped? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

import Foundation

/// The administrative actions on groups: one implementation for the admin CLI (`tessera admin
/// groups …`) and the admin HTTP API (`/admin/v1/groups`), over the ``GroupService`` that
/// holds the groups' rules. Each change is audited with the actor the adapter names.
public struct GroupAdministration: Sendable {
    public typealias Store = GroupService.Store & AuditLog

    let groups: GroupService
    let store: any Store
    let now: Now

    public init(store: any Store, now: @escaping Now = { Date() }) {
        self.groups = GroupService(store: store, now: now)
        self.store = store
        self.now = now
    }

    /// A page of groups by name, after the group `after`.
    public func list(limit: Int, after: String?) async throws -> [UserGroup] {
        guard (1...1000).contains(limit) else { throw AdminFailure.invalid("limit must be between 1 and 1000") }
        return try await groups.list(limit: limit, after: after)
    }

    public func group(_ name: String) async throws -> UserGroup {
        try await refusing(name) { try await groups.group(named: name) }
    }

    public func create(name: String, description: String?, precedence: Int?, actor: String) async throws -> UserGroup {
        let group = try await refusing(name) { try await groups.create(name: name, description: description, precedence: precedence) }
        try await audit(actor, "groups.create", name)
        return group
    }

    /// Deletes a group and every membership in it; its members stay.
    public func delete(_ name: String, actor: String) async throws {
        try await refusing(name) { try await groups.delete(name: name) }
        try await audit(actor, "groups.delete", name)
    }

    /// Adds `user` to the group; adding a member again changes nothing (and is audited alike).
    public func add(_ user: User, to name: String, actor: String) async throws {
        try await refusing(name) { try await groups.add(userID: user.id, to: name) }
        try await audit(actor, "groups.add-user", name, details: "user \(user.id)")
    }

    /// Removes `user` from the group; removing a non-member changes nothing.
    public func remove(_ user: User, from name: String, actor: String) async throws {
        try await refusing(name) { try await groups.remove(userID: user.id, from: name) }
        try await audit(actor, "groups.remove-user", name, details: "user \(user.id)")
    }

    /// A page of the group's members in id order, after the user `after`.
    public func members(of name: String, limit: Int, after: String?) async throws -> [User] {
        guard (1...1000).contains(limit) else { throw AdminFailure.invalid("limit must be between 1 and 1000") }
        return try await refusing(name) { try await groups.members(of: name, limit: limit, after: after) }
    }

    private func audit(_ actor: String, _ action: String, _ name: String, details: String? = nil) async throws {
        try await store.recordAdminAction(actor: actor, action: action, target: "group \(name)", details: details, now: now())
    }

    /// Runs `body`, its ``GroupError`` worded as an ``AdminFailure`` about the group `name`.
    private func refusing<Result>(_ name: String, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as GroupError {
            throw Self.failure(error, group: name)
        }
    }

    static func failure(_ error: GroupError, group: String) -> AdminFailure {
        switch error {
        case .invalidName: .invalid("\(group) cannot name a group: 1 to 128 characters, no control characters")
        case .invalidDescription: .invalid("a description has at most 2048 characters")
        case .invalidPrecedence: .invalid("precedence must be between 0 and \(Int32.max)")
        case .alreadyExists: .alreadyExists("a group named \(group) already exists")
        case .noSuchGroup: .notFound("no group \(group)")
        case .noSuchUser: .notFound("no such user")
        }
    }

    // MARK: Shapes (the CLI's `--json`)

    public static func json(_ group: UserGroup) -> [String: Any] {
        ["name": group.name, "description": group.description as Any? ?? NSNull(), "precedence": group.precedence as Any? ?? NSNull()]
    }

    public static func membership(_ user: User, group: String) -> [String: Any] {
        ["name": group, "user_id": user.id]
    }

    public static func member(_ user: User) -> [String: Any] {
        ["user_id": user.id, "email": user.email]
    }
}

import Foundation

/// Why a group operation was refused.
public enum GroupError: Error, Equatable, Sendable {
    case invalidName
    case invalidDescription
    case invalidPrecedence
    case alreadyExists
    case noSuchGroup
    case noSuchUser
}

/// Groups and their members (contract §11.5): the one place their rules live, used by the
/// admin CLI and the Cognito API alike.
public struct GroupService: Sendable {
    public typealias Store = GroupStore & UserStore

    let store: any Store
    let now: Now

    public init(store: any Store, now: @escaping Now) {
        self.store = store
        self.now = now
    }

    /// Creates a group; the name must be free.
    public func create(name: String, description: String?, precedence: Int?) async throws -> UserGroup {
        try Self.check(name: name, description: description, precedence: precedence)
        let now = now()
        let group = UserGroup(name: name, description: description, precedence: precedence, createdAt: now, updatedAt: now)
        do {
            try await store.createGroup(group)
        } catch StorageError.alreadyExists {
            throw GroupError.alreadyExists
        }
        return group
    }

    /// Replaces a group's description and precedence.
    public func update(name: String, description: String?, precedence: Int?) async throws -> UserGroup {
        try Self.check(name: name, description: description, precedence: precedence)
        guard let updated = try await store.updateGroup(named: name, description: description, precedence: precedence, now: now()) else {
            throw GroupError.noSuchGroup
        }
        return updated
    }

    public func group(named name: String) async throws -> UserGroup {
        guard UserGroup.isValidName(name), let group = try await store.group(named: name) else { throw GroupError.noSuchGroup }
        return group
    }

    public func list(limit: Int, after: String?) async throws -> [UserGroup] {
        try await store.listGroups(limit: limit, after: after)
    }

    /// Deletes a group and every membership in it.
    public func delete(name: String) async throws {
        guard UserGroup.isValidName(name), try await store.deleteGroup(named: name) else { throw GroupError.noSuchGroup }
    }

    /// Adds a user to a group; adding a member again changes nothing.
    public func add(userID: String, to name: String) async throws {
        guard UserGroup.isValidName(name) else { throw GroupError.noSuchGroup }
        do {
            try await store.addMember(group: name, userID: userID, now: now())
        } catch StorageError.notFound {
            throw try await store.group(named: name) == nil ? GroupError.noSuchGroup : GroupError.noSuchUser
        }
    }

    /// Removes a user from a group; removing a non-member changes nothing.
    public func remove(userID: String, from name: String) async throws {
        guard UserGroup.isValidName(name), try await store.group(named: name) != nil else { throw GroupError.noSuchGroup }
        _ = try await store.removeMember(group: name, userID: userID)
    }

    public func members(of name: String, limit: Int, after: String?) async throws -> [User] {
        guard UserGroup.isValidName(name) else { throw GroupError.noSuchGroup }
        do {
            return try await store.members(of: name, limit: limit, after: after)
        } catch StorageError.notFound {
            throw GroupError.noSuchGroup
        }
    }

    /// The user's groups in token order.
    public func groups(ofUser userID: String) async throws -> [UserGroup] {
        try await store.groups(ofUser: userID)
    }

    static func check(name: String, description: String?, precedence: Int?) throws(GroupError) {
        guard UserGroup.isValidName(name) else { throw .invalidName }
        if let description, !UserGroup.descriptionLength.contains(description.count) { throw .invalidDescription }
        if let precedence, !UserGroup.precedenceRange.contains(precedence) { throw .invalidPrecedence }
    }
}

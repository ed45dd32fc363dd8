import Foundation

/// Storage of groups and their members (contract §11.5). Membership goes with the user: a
/// deleted user leaves every group, a deleted group loses every member.
public protocol GroupStore: Sendable {
    /// Throws ``StorageError/alreadyExists`` when a group of this name exists.
    func createGroup(_ group: UserGroup) async throws
    /// Changes a group's description and precedence; returns the group afterwards, nil when
    /// there is none of this name.
    func updateGroup(named name: String, description: String?, precedence: Int?, now: Date) async throws -> UserGroup?
    func group(named name: String) async throws -> UserGroup?
    /// Groups ordered by name, after `after` (a name).
    func listGroups(limit: Int, after: String?) async throws -> [UserGroup]
    /// Returns false when there is no such group.
    func deleteGroup(named name: String) async throws -> Bool
    /// Adds the user to the group (nothing changes when already in it). Throws
    /// ``StorageError/notFound`` when the group or the user does not exist.
    func addMember(group name: String, userID: String, now: Date) async throws
    /// Returns false when the user was not in the group (or either does not exist).
    func removeMember(group name: String, userID: String) async throws -> Bool
    /// The group's members ordered by user id, after `after` (a user id). Throws
    /// ``StorageError/notFound`` when there is no such group.
    func members(of name: String, limit: Int, after: String?) async throws -> [User]
    /// The user's groups in token order (``UserGroup/tokenOrder(_:_:)``).
    func groups(ofUser userID: String) async throws -> [UserGroup]
}

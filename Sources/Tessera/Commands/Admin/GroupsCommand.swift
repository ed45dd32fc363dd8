import ArgumentParser
import Foundation
import TesseraCore

/// `tessera admin groups …` (contract §11.5).
struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups", abstract: "Create, list and delete groups; add and remove their members.",
        subcommands: [Create.self, List.self, Delete.self, AddUser.self, RemoveUser.self, Members.self])

    /// The group service over the command's database.
    static func service(_ context: AdminContext) -> GroupService {
        let now = context.now
        return GroupService(store: context.storage, now: { now })
    }

    /// A refusal of the group service, as the CLI reports it (exit 1, or 2 for bad input).
    static func adminError(_ error: GroupError, group: String) -> AdminError {
        switch error {
        case .invalidName: .usage("\(group) cannot name a group: 1 to 128 characters, no control characters")
        case .invalidDescription: .usage("a description has at most 2048 characters")
        case .invalidPrecedence: .usage("--precedence must be between 0 and \(Int32.max)")
        case .alreadyExists: .alreadyExists("a group named \(group) already exists")
        case .noSuchGroup: .notFound("no group \(group)")
        case .noSuchUser: .notFound("no such user")
        }
    }

    /// Adds or removes a member (`change`), audits it and reports it: "`done` group NAME",
    /// `%@` standing for the user id.
    static func changeMembership(
        _ name: String, user: String, options: AdminOptions, action: String, done: String,
        _ change: (GroupService, String) async throws -> Void
    ) async throws {
        let context = try await AdminContext(options)
        let found = try await context.user(user)
        do {
            try await change(service(context), found.id)
        } catch let error as GroupError {
            throw adminError(error, group: name)
        }
        try await context.audit("groups.\(action)", target: "group \(name)", details: "user \(found.id)")
        try context.emit(
            json: ["name": name, "user_id": found.id], text: done.replacingOccurrences(of: "%@", with: found.id) + " group \(name)")
    }

    static func json(_ group: UserGroup) -> [String: Any] {
        ["name": group.name, "description": group.description as Any? ?? NSNull(), "precedence": group.precedence as Any? ?? NSNull()]
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a group.",
            discussion: "Example:\n  tessera admin groups create admins --description 'Operators' --precedence 1")
        @Argument(help: "The group's name.") var name: String
        @Option(help: "What the group is for.") var description: String?
        @Option(help: "Lower first in tokens' group lists (0-2147483647).") var precedence: Int?
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let group: UserGroup
            do {
                group = try await GroupsCommand.service(context).create(name: name, description: description, precedence: precedence)
            } catch let error as GroupError {
                throw GroupsCommand.adminError(error, group: name)
            }
            try await context.audit("groups.create", target: "group \(name)")
            try context.emit(json: GroupsCommand.json(group), text: "created group \(name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups by name.", discussion: "Example:\n  tessera admin groups list --json")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            var groups: [UserGroup] = []
            while true {
                let page = try await GroupsCommand.service(context).list(limit: 500, after: groups.last?.name)
                groups += page
                if page.count < 500 { break }
            }
            try context.emit(json: groups.map(GroupsCommand.json), text: TextTable.render(
                ["NAME", "PRECEDENCE", "DESCRIPTION"],
                groups.map { [$0.name, $0.precedence.map(String.init) ?? "-", $0.description ?? ""] }))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a group; its members stay, without it.", discussion: "Example:\n  tessera admin groups delete admins --yes")
        @Argument(help: "The group's name.") var name: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let service = GroupsCommand.service(context)
            do {
                _ = try await service.group(named: name)
                try context.confirm("delete group \(name) and every membership in it")
                try await service.delete(name: name)
            } catch let error as GroupError {
                throw GroupsCommand.adminError(error, group: name)
            }
            try await context.audit("groups.delete", target: "group \(name)")
            try context.emit(json: ["name": name, "deleted": true], text: "deleted group \(name)")
        }
    }

    struct AddUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-user", abstract: "Add a user to a group.",
            discussion: "Tokens issued from now on name the group.\nExample:\n  tessera admin groups add-user admins alice@example.com")
        @Argument(help: "The group's name.") var name: String
        @Argument(help: "Email or user id.") var user: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await GroupsCommand.changeMembership(name, user: user, options: options, action: "add-user", done: "added user %@ to") {
                try await $0.add(userID: $1, to: name)
            }
        }
    }

    struct RemoveUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-user", abstract: "Remove a user from a group.",
            discussion: "Example:\n  tessera admin groups remove-user admins alice@example.com")
        @Argument(help: "The group's name.") var name: String
        @Argument(help: "Email or user id.") var user: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await GroupsCommand.changeMembership(name, user: user, options: options, action: "remove-user", done: "removed user %@ from") {
                try await $0.remove(userID: $1, from: name)
            }
        }
    }

    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a group's members.", discussion: "Example:\n  tessera admin groups members admins --json")
        @Argument(help: "The group's name.") var name: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            var members: [User] = []
            do {
                while true {
                    let page = try await GroupsCommand.service(context).members(of: name, limit: 500, after: members.last?.id)
                    members += page
                    if page.count < 500 { break }
                }
            } catch let error as GroupError {
                throw GroupsCommand.adminError(error, group: name)
            }
            try context.emit(json: members.map { ["user_id": $0.id, "email": $0.email] }, text: TextTable.render(
                ["USER_ID", "EMAIL"], members.map { [$0.id, $0.email] }))
        }
    }
}

import ArgumentParser
import Foundation
import TesseraCore

/// `tessera admin groups …` (contract §11.5).
struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups", abstract: "Create, list and delete groups; add and remove their members.",
        subcommands: [Create.self, List.self, Delete.self, AddUser.self, RemoveUser.self, Members.self])

    /// The group administration over the command's database, shared with the admin API.
    static func administration(_ context: AdminContext) -> GroupAdministration {
        let now = context.now
        return GroupAdministration(store: context.storage, now: { now })
    }

    /// Adds or removes a member (`change`) and reports it: "`done` group NAME", `%@` standing
    /// for the user id.
    static func changeMembership(
        _ name: String, user: String, options: AdminOptions, done: String,
        _ change: (GroupAdministration, User) async throws -> Void
    ) async throws {
        let context = try await AdminContext(options)
        let found = try await context.user(user)
        try await change(administration(context), found)
        try context.emit(
            json: GroupAdministration.membership(found, group: name),
            text: done.replacingOccurrences(of: "%@", with: found.id) + " group \(name)")
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
            let group = try await GroupsCommand.administration(context)
                .create(name: name, description: description, precedence: precedence, actor: AdminContext.actor)
            try context.emit(json: GroupAdministration.json(group), text: "created group \(name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups by name.", discussion: "Example:\n  tessera admin groups list --json")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            var groups: [UserGroup] = []
            while true {
                let page = try await GroupsCommand.administration(context).list(limit: 500, after: groups.last?.name)
                groups += page
                if page.count < 500 { break }
            }
            try context.emit(json: groups.map(GroupAdministration.json), text: TextTable.render(
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
            let administration = GroupsCommand.administration(context)
            _ = try await administration.group(name)
            try context.confirm("delete group \(name) and every membership in it")
            try await administration.delete(name, actor: AdminContext.actor)
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
            try await GroupsCommand.changeMembership(name, user: user, options: options, done: "added user %@ to") {
                try await $0.add($1, to: name, actor: AdminContext.actor)
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
            try await GroupsCommand.changeMembership(name, user: user, options: options, done: "removed user %@ from") {
                try await $0.remove($1, from: name, actor: AdminContext.actor)
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
            while true {
                let page = try await GroupsCommand.administration(context).members(of: name, limit: 500, after: members.last?.id)
                members += page
                if page.count < 500 { break }
            }
            try context.emit(json: members.map(GroupAdministration.member), text: TextTable.render(
                ["USER_ID", "EMAIL"], members.map { [$0.id, $0.email] }))
        }
    }
}

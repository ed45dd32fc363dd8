import ArgumentParser
import Foundation
import TesseraCore
import TesseraCrypto
import TesseraSQLite

/// `tessera admin keys …`
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "List and rotate signing keys.", subcommands: [List.self, Rotate.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys and their state.", discussion: "Example:\n  tessera admin keys list --json")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let keys = try await KeyAdministration(store: context.storage, settings: context.settings, generator: nil, now: { [now = context.now] in now }).list()
            try context.emit(
                json: keys,
                text: TextTable.render(["KID", "STATE", "CREATED_AT", "RETIRE_AFTER"],
                                       keys.map { key in ["kid", "state", "created_at", "retire_after"].map { key[$0] as? String ?? "" } }))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a new signing key: published at once, signing a moment later; the old one stays published until its tokens expire.",
            discussion: """
                Running servers publish the new key within cluster_sync_interval and one of them makes it the signing \
                key after key activation delay (4 x cluster_sync_interval + 1 s), so every server's JWKS carries it \
                before any token does. No restart.

                Example:
                  tessera admin keys rotate --keys-dir /etc/tessera/keys
                """)
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let keys = KeyAdministration(
                store: context.storage, settings: context.settings, generator: CustodyKeyGenerator(custody: try KeyCustody(context.settings, storage: context.storage)),
                now: { [now = context.now] in now })
            let json = try await keys.rotate(actor: AdminContext.actor)
            let (kid, activateAfter, file) = (json["kid"] as! String, json["activate_after"] as! String, json["file"] as? String)
            try context.emit(json: json, text: """
                new key \(kid)\(file.map { " (\($0))" } ?? " (sealed in the database)"): published now, signing from \(activateAfter); \
                the previous one stays published until its tokens expire
                """)
        }
    }
}

/// `tessera admin hooks …`
struct HooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hooks", abstract: "Dead-lettered post-sign-up hook runs.", subcommands: [Failed.self, Retry.self])

    struct Failed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead-lettered post-sign-up hook runs.", discussion: "Example:\n  tessera admin hooks failed --json")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let runs = try await context.storage.deadHookRuns()
            try context.emit(
                json: runs.map { ["id": $0.id, "user_id": $0.userID, "hook": $0.hook, "attempts": $0.attempts, "last_error": $0.lastError ?? ""] as [String: Any] },
                text: TextTable.render(["ID", "USER_ID", "HOOK", "ATTEMPTS", "LAST_ERROR"],
                                       runs.map { ["\($0.id)", $0.userID, $0.hook, "\($0.attempts)", $0.lastError ?? ""] }))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-queue dead-lettered runs for the running server.", discussion: "Examples:\n  tessera admin hooks retry 42\n  tessera admin hooks retry --all")
        @Argument(help: "The run id (see `hooks failed`).") var id: Int64?
        @Flag(help: "Re-queue every dead-lettered run.") var all = false
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard (id == nil) != !all else { throw ValidationError("give a run id or --all") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let count = try await context.storage.retryDeadHookRuns(ids: id.map { [$0] }, now: context.now)
            if let id, count == 0 { throw AdminError.notFound("no dead-lettered run \(id)") }
            try await context.audit("hooks.retry", target: id.map { "run \($0)" } ?? "all", details: "\(count) runs")
            try context.emit(json: ["requeued": count], text: "re-queued \(count) run\(count == 1 ? "" : "s")")
        }
    }
}

/// `tessera admin audit`
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show the audit log of admin actions, newest first.",
        discussion: "Examples:\n  tessera admin audit --limit 20\n  tessera admin audit --after 1042 --json")
    @Option(help: "How many entries (1-10000).") var limit = 50
    @Option(help: "Only entries older than the entry with this id (the next page).") var after: Int64?
    @OptionGroup var options: AdminOptions

    func validate() throws {
        guard (1...10000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
    }

    func run() async throws {
        let context = try await AdminContext(options)
        let entries = try await context.revocations.audit(limit: limit, after: after)
        try context.emit(
            json: entries.map(RevocationAdministration.json),
            text: TextTable.render(["AT", "ACTOR", "ACTION", "TARGET", "DETAILS"],
                                   entries.map { [$0.at.iso8601, $0.actor, $0.action, $0.target ?? "", $0.details ?? ""] }))
    }
}

/// `tessera admin …`
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Operate on the database directly, with or without a running server; changes take effect at once.",
        subcommands: [RevokeCommand.self, UsersCommand.self, ClientsCommand.self, KeysCommand.self, HooksCommand.self, AuditCommand.self, MailCommand.self, WebhooksCommand.self, EventsCommand.self, GroupsCommand.self, AccessKeysCommand.self])
}

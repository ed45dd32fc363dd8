import ArgumentParser
import Foundation
import Logging
import TesseraCore
import TesseraCrypto
import TesseraSQLite
import TesseraServer

/// `tessera admin users …`
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "List, show, create, disable, enable, delete, import and export users.",
        subcommands: [
            List.self, Show.self, Create.self, Disable.self, Enable.self, Delete.self, VerifyEmail.self, SetPassword.self, SendRecovery.self,
            Import.self, Export.self,
        ])

    /// Reads a password from standard input (one trailing newline stripped); the service checks
    /// it against the password policy (exit 2 when weak) and hashes it.
    static func passwordFromStandardInput() -> String {
        var text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Page through users in creation order.",
            discussion: """
                Examples:
                  tessera admin users list --limit 50
                  tessera admin users list --after 3q2-Rf0wqXq7Hc1u8mAbCw --status disabled --json
                  tessera admin users list --email-prefix alice
                """)
        @Option(help: "How many users at most (1-1000).") var limit = 100
        @Option(help: "Continue after this user id.") var after: String?
        @Option(name: .customLong("email-prefix"), help: "Only emails starting with this (case-insensitive).") var emailPrefix: String?
        @Option(help: "Only users with this status: active, unconfirmed or disabled.") var status: String?
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
            if let status, UserStatus(rawValue: status) == nil { throw ValidationError("--status must be active, unconfirmed or disabled") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let users = try await context.users.list(limit: limit, after: after, emailPrefix: emailPrefix, status: status.flatMap(UserStatus.init(rawValue:)))
            try context.emit(json: users.map(UserAdministration.summary), text: TextTable.render(
                ["USER_ID", "EMAIL", "STATUS", "CREATED_AT"], users.map { [$0.id, $0.email, $0.status.rawValue, $0.createdAt.iso8601] }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user.", discussion: "Example:\n  tessera admin users show alice@example.com --json")
        @Argument(help: "Email or user id.") var user: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let (found, emails) = try await context.users.details(of: try await context.user(user))
            try context.emit(json: UserAdministration.detail(found, emails: emails), text: TextTable.render(["FIELD", "VALUE"], [
                ["user_id", found.id], ["email", found.email], ["status", found.status.rawValue],
                ["email_verified", "\(found.emailVerified)"], ["has_password", "\(found.passwordHash != nil)"],
                ["created_at", found.createdAt.iso8601], ["updated_at", found.updatedAt.iso8601],
            ] + emails.map { address in
                ["email", "\(address.email) (\(address.primary ? "primary, " : "")\(address.verified ? "verified" : "unverified"))"]
            } + found.attributes.sorted { $0.key < $1.key }.map { ["attributes.\($0.key)", $0.value] }))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user.",
            discussion: """
                Without --password-stdin the user has no password and cannot log in until one is set.

                Examples:
                  printf '%s\\n' 'correct horse battery' | tessera admin users create alice@example.com --password-stdin --confirmed
                  tessera admin users create bob@example.com --json
                """)
        @Argument(help: "The email address.") var email: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (one trailing newline stripped).") var passwordStdin = false
        @Flag(help: "Create the user active rather than unconfirmed.") var confirmed = false
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let user = try await context.users.create(
                email: email, password: passwordStdin ? UsersCommand.passwordFromStandardInput() : nil, confirmed: confirmed, actor: AdminContext.actor)
            try context.emit(json: UserAdministration.summary(user), text: "created user \(user.id) \(user.email) (\(user.status.rawValue))")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user and revoke everything they hold.", discussion: "Example:\n  tessera admin users disable alice@example.com --yes")
        @Argument(help: "Email or user id.") var user: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await UsersCommand.setStatus(user, .disabled, options: options, action: "disable")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a user (status active).", discussion: "Example:\n  tessera admin users enable alice@example.com")
        @Argument(help: "Email or user id.") var user: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await UsersCommand.setStatus(user, .active, options: options, action: "enable")
        }
    }

    static func setStatus(_ user: String, _ status: UserStatus, options: AdminOptions, action: String) async throws {
        let context = try await AdminContext(options)
        let found = try await context.user(user)
        if status == .disabled { try context.confirm("disable user \(found.id) and revoke everything they hold") }
        try await context.users.setStatus(found, status, actor: AdminContext.actor)
        try context.emit(json: ["user_id": found.id, "status": status.rawValue], text: "user \(found.id) is now \(status.rawValue)")
    }

    struct VerifyEmail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-email", abstract: "Mark the user's email verified; an unconfirmed user becomes active.",
            discussion: "Example:\n  tessera admin users verify-email alice@example.com")
        @Argument(help: "Email or user id.") var user: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let found = try await context.user(user)
            let verified = try await context.users.verifyEmail(of: found, actor: AdminContext.actor)
            try context.emit(json: ["user_id": verified.id, "email": verified.email, "email_verified": true, "status": verified.status.rawValue],
                             text: "the email of user \(verified.id) is verified; status \(verified.status.rawValue)")
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password", abstract: "Set a user's password (from standard input) and revoke every token they hold.",
            discussion: "Example:\n  printf '%s\\n' 'a new passphrase' | tessera admin users set-password alice@example.com --password-stdin --yes")
        @Argument(help: "Email or user id.") var user: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (one trailing newline stripped).") var passwordStdin = false
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard passwordStdin else { throw ValidationError("the password is read from standard input: pass --password-stdin") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let found = try await context.user(user)
            try context.confirm("set the password of user \(found.id) and revoke everything they hold")
            try await context.users.setPassword(of: found, to: UsersCommand.passwordFromStandardInput(), actor: AdminContext.actor)
            try context.emit(json: ["user_id": found.id, "password_set": true], text: "set the password of user \(found.id); every token it held is revoked")
        }
    }

    struct SendRecovery: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "send-recovery", abstract: "Mail the user a password recovery code now (no resend limits).",
            discussion: """
                The message is queued; the running server's courier sends it within seconds.
                Example:
                  tessera admin users send-recovery alice@example.com
                """)
        @Argument(help: "Email or user id.") var user: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let found = try await context.user(user)
            let crypto = OpenSSLPrimitives()
            let lifecycle = LifecycleService(
                settings: context.settings, store: context.storage,
                mail: LifecycleMail(settings: context.settings, secret: try await MailRuntime.codeSecret(context.settings, storage: context.storage), crypto: crypto),
                hasher: BcryptPasswordHasher(), crypto: crypto, now: { Date() }, logger: Logger(label: "tessera.admin"), mailQueued: {})
            try await context.users.sendRecovery(to: found, using: lifecycle, actor: AdminContext.actor)
            try context.emit(json: ["user_id": found.id, "queued": true], text: "queued a recovery code for user \(found.id) to \(found.email)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user: their personal data and everything they hold; the audit log keeps only the id.",
            discussion: "Example:\n  tessera admin users delete alice@example.com --yes")
        @Argument(help: "Email or user id.") var user: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let found = try await context.user(user)
            try context.confirm("delete user \(found.id) and all their data")
            try await context.users.delete(found, actor: AdminContext.actor)
            try context.emit(json: ["user_id": found.id, "deleted": true], text: "deleted user \(found.id)")
        }
    }
}

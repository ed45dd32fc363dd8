import ArgumentParser
import Foundation
import TesseraCore
import TesseraCrypto
import TesseraServer
import TesseraSQLite

/// How an admin command failed, mapped to the contract's exit codes in `CommandLineExit`:
/// 1 when the target does not exist (or, for a create, already exists) or the operator said
/// no, 2 for a usage error.
public enum AdminError: Error, CustomStringConvertible {
    case notFound(String)
    case alreadyExists(String)
    case declined(String)
    /// The target is declared in the config file, which owns it.
    case ownedByConfig(String)
    case usage(String)
    /// Part of the work was done and the rest reported (an import's bad lines).
    case incomplete(String)

    public var description: String {
        switch self {
        case .notFound(let message), .alreadyExists(let message), .declined(let message), .ownedByConfig(let message), .usage(let message),
             .incomplete(let message): message
        }
    }

    var exitCode: Int32 {
        if case .usage = self { return 2 }
        return 1
    }
}

/// The flags every admin command takes.
struct AdminOptions: ParsableArguments {
    @OptionGroup var settings: SettingsOptions

    @Flag(help: "Print JSON for scripts instead of a table or line.")
    var json = false

    @Flag(help: "Do not ask for confirmation (needed for destructive commands without a terminal).")
    var yes = false
}

/// What an admin command works with: the database (migrated), the settings, who is running
/// it, and the output and confirmation conventions of contract §6.
struct AdminContext {
    let settings: Settings
    let storage: any Storage
    let options: AdminOptions
    let now = Date()

    init(_ options: AdminOptions) async throws {
        self.options = options
        settings = try options.settings.resolve()
        var quiet = settings
        quiet.logLevel = "warning"
        let logger = TesseraRuntime.bootstrapLogging(quiet)
        storage = try await TesseraRuntime.openDatabase(settings, policy: .applyToSQLiteOnly, logger: logger).storage
    }

    /// Who ran the command, as far as the operating system tells: the real user, the
    /// effective one when it differs, and the login uid the kernel keeps for the session
    /// (`/proc/self/loginuid`, which `sudo` and `su` do not change). `SUDO_USER` is an
    /// environment variable any caller can set, so it is recorded only as a claim.
    static var actor: String {
        let uid = getuid()
        let euid = geteuid()
        var parts = ["\(userName(uid)) (uid \(uid)"]
        if euid != uid { parts.append("effective \(userName(euid)) uid \(euid)") }
        if let login = loginUID, login != uid { parts.append("login \(userName(login)) uid \(login)") }
        var actor = parts.joined(separator: ", ") + ")"
        if let sudoUser = ProcessInfo.processInfo.environment["SUDO_USER"], !sudoUser.isEmpty {
            actor += " SUDO_USER=\(sudoUser) (unverified)"
        }
        return actor
    }

    /// The kernel's login uid of this session, if it has one (unset is 4294967295).
    static var loginUID: uid_t? {
        guard let text = try? String(contentsOfFile: "/proc/self/loginuid", encoding: .utf8),
              let value = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)), value != UInt32.max
        else { return nil }
        return uid_t(value)
    }

    static func userName(_ uid: uid_t) -> String {
        getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(uid)"
    }

    /// Asks before a destructive action on a terminal; without one, `--yes` is required.
    func confirm(_ action: String) throws {
        if options.yes { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw AdminError.usage("refusing to \(action) without confirmation: no terminal to ask on; pass --yes")
        }
        FileHandle.standardError.write(Data("\(action)? [y/N] ".utf8))
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased(), ["y", "yes"].contains(answer) else {
            throw AdminError.declined("not confirmed; nothing changed")
        }
    }

    /// Records the action in the audit log.
    func audit(_ action: String, target: String?, details: String? = nil) async throws {
        try await storage.recordAdminAction(actor: Self.actor, action: action, target: target, details: details, now: now)
    }

    /// Prints `json` with `--json`, else `text`.
    func emit(json value: Any, text: @autoclosure () -> String) throws {
        if options.json {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(text())
        }
    }

    /// The user actions, shared with the admin HTTP API, acting as ``actor``.
    var users: UserAdministration {
        UserAdministration(store: storage, hasher: BcryptPasswordHasher(), bcryptCost: settings.bcryptCost, crypto: OpenSSLPrimitives(), now: { [now] in now })
    }

    /// The revocations and the audit trail, shared with the admin HTTP API.
    var revocations: RevocationAdministration {
        RevocationAdministration(store: storage, settings: settings, crypto: OpenSSLPrimitives(), now: { [now] in now })
    }

    /// The user named by an email (contains `@`) or an id; exit 1 when there is none.
    func user(_ emailOrID: String) async throws -> User {
        try await users.user(emailOrID)
    }
}

/// Aligned plain-text tables.
enum TextTable {
    static func render(_ headers: [String], _ rows: [[String]]) -> String {
        let widths = headers.indices.map { column in ([headers] + rows).map { $0[column].count }.max() ?? 0 }
        let line = { (cells: [String]) in
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}

extension Date {
    /// ISO 8601 in UTC, as the CLI prints times.
    var iso8601: String { ISO8601DateFormatter().string(from: self) }
}

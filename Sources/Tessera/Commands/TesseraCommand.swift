import ArgumentParser
import Foundation

/// The `tessera` command: `serve`, `migrate` and (later) `admin`.
public struct TesseraCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "A self-contained OpenID Connect identity provider.",
        subcommands: [ServeCommand.self, MigrateCommand.self, AdminCommand.self])

    public init() {}

    /// Runs `tessera` with the process's arguments and exits with the contract's codes.
    public static func runMain() async -> Never {
        await CommandLineExit.run(TesseraCommand.self) {
            var command = try TesseraCommand.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        }
    }
}

/// Exit codes of contract §6, in one place: 0 success, 1 not found / runtime failure,
/// 2 usage or configuration error (never ArgumentParser's 64). Errors are one line on stderr.
public enum CommandLineExit {
    /// Runs `body`, then exits: 0, or the code and one-line message for the error it threw.
    /// `command` is the root command whose usage a usage error shows.
    public static func run(_ command: any ParsableCommand.Type, _ body: () async throws -> Void) async -> Never {
        do {
            try await body()
            exit(0)
        } catch let error as StartupError {
            fail(error.description, code: 1)
        } catch let error as ConfigurationError {
            fail(error.description, code: 2)
        } catch let error as AdminError {
            fail(error.description, code: error.exitCode)
        } catch let error as AdminFailure {
            fail(error.description, code: { if case .invalid = error { return 2 } else { return 1 } }())
        } catch {
            let code = command.exitCode(for: error)
            if code == .success {
                // --help, --version: ArgumentParser prints and succeeds.
                command.exit(withError: error)
            }
            let message = command.fullMessage(for: error)
            let usageError = code == .validationFailure
            fail(message, code: usageError ? 2 : 1)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: true)
        let first = lines.first.map(String.init) ?? "failed"
        var text = "tessera: \(first.hasPrefix("Error: ") ? String(first.dropFirst(7)) : first)\n"
        // A usage error may add its usage text after the one-line error.
        if lines.count > 1 { text += lines.dropFirst().joined(separator: "\n") + "\n" }
        FileHandle.standardError.write(Data(text.utf8))
        exit(code)
    }
}

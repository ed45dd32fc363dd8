import Foundation
import Tessera

/// Allows sign-up only for email domains listed in `EXAMPLE_ALLOWED_DOMAINS`
/// (comma-separated, case-insensitive); unset or empty allows every domain.
struct AllowedDomains: PreSignUpHook {
    let domains: Set<String>?

    init(environment: [String: String]) {
        let listed = (environment["EXAMPLE_ALLOWED_DOMAINS"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        domains = listed.isEmpty ? nil : Set(listed)
    }

    func beforeSignUp(_ attempt: SignUpAttempt) async throws -> PreSignUpDecision {
        guard let domains else { return .allow(attempt) }
        let domain = attempt.email.split(separator: "@").last.map { $0.lowercased() } ?? ""
        return domains.contains(domain) ? .allow(attempt) : .reject(reason: "email domain not allowed")
    }
}

/// Appends each new user's id as one line to the file named by `EXAMPLE_POST_SIGNUP_LOG`,
/// and throws instead while the file named by `EXAMPLE_POST_SIGNUP_FAIL` exists, so retries,
/// backoff and dead-lettering can be watched.
struct AppendUserIDToLog: PostSignUpHook {
    let name = "example-append-user-id"
    let logPath: String?
    let failPath: String?

    init(environment: [String: String]) {
        logPath = environment["EXAMPLE_POST_SIGNUP_LOG"]
        failPath = environment["EXAMPLE_POST_SIGNUP_FAIL"]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func afterSignUp(_ user: SignedUpUser) async throws {
        if let failPath, FileManager.default.fileExists(atPath: failPath) {
            throw Failure(description: "failing on purpose while \(failPath) exists")
        }
        guard let logPath else { return }
        let descriptor = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(logPath): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let line = Array((user.id + "\n").utf8)
        guard line.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == line.count, fsync(descriptor) == 0 else {
            throw Failure(description: "cannot write \(logPath)")
        }
    }
}

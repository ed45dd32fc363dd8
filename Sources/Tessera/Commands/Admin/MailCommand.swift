import ArgumentParser
import Foundation
import Logging
import TesseraCore
import TesseraCrypto
import TesseraMail
import TesseraSQLite

/// `tessera admin mail …` (contract §8.7): the durable mail queue, and a test of the relay.
struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail", abstract: "List and retry queued mail; send a test message through mail_url.",
        subcommands: [List.self, Retry.self, Test.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the mail queue, newest first. Never shows a code.",
            discussion: """
                Examples:
                  tessera admin mail list --status failed
                  tessera admin mail list --to alice@example.com --json
                """)
        @Option(help: "Only messages with this status: queued, sent, failed or expired.") var status: String?
        @Option(help: "Only messages to this address (case-insensitive).") var to: String?
        @Option(help: "How many messages at most (1-1000).") var limit = 100
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
            if let status, MailStatus(rawValue: status) == nil { throw ValidationError("--status must be queued, sent, failed or expired") }
            if let to, to.contains(where: \.isNewline) { throw ValidationError("--to must be one address") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let mail = try await context.storage.listMail(status: status.flatMap(MailStatus.init(rawValue:)), recipient: to, limit: limit)
            try context.emit(
                json: mail.map { message -> [String: Any] in
                    [
                        "id": message.id, "to": message.request.recipient, "template": message.request.template.rawValue,
                        "status": message.status.rawValue, "attempts": message.attempts,
                        "last_error": message.lastError.map { $0 as Any } ?? NSNull(), "created_at": message.createdAt.iso8601,
                    ]
                },
                text: TextTable.render(
                    ["ID", "TO", "TEMPLATE", "STATUS", "ATTEMPTS", "CREATED_AT", "LAST_ERROR"],
                    mail.map {
                        [$0.id, $0.request.recipient, $0.request.template.rawValue, $0.status.rawValue, "\($0.attempts)",
                         $0.createdAt.iso8601, String(($0.lastError ?? "").prefix(60))]
                    }))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue failed messages again (those whose code, if any, is still alive).",
            discussion: """
                The running server's courier sends them within seconds.
                Examples:
                  tessera admin mail retry mxbplggc.5019553749de2af43f59c68b
                  tessera admin mail retry --all
                """)
        @Argument(help: "The message id.") var id: String?
        @Flag(help: "Every failed message.") var all = false
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard !(id != nil && all) else { throw ValidationError("name one message id, or pass --all, not both") }
            guard id != nil || all else { throw ValidationError("name one message id, or pass --all") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            if let id {
                guard let found = try await context.storage.mail(id: id) else { throw AdminError.notFound("no message \(id)") }
                guard found.status == .failed else { throw AdminError.declined("message \(id) is \(found.status.rawValue), not failed") }
            }
            let retried = try await context.storage.retryFailedMail(ids: id.map { [$0] }, now: context.now)
            if let id, retried.isEmpty { throw AdminError.declined("message \(id) carries a code that has expired; it cannot be sent") }
            try await context.audit("mail.retry", target: id.map { "mail \($0)" } ?? "all failed mail", details: "\(retried.count) re-queued")
            try context.emit(json: ["retried": retried], text: "re-queued \(retried.count) message(s)")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one message now through mail_url, to check the relay and its settings.",
            discussion: """
                Exits 0 when the relay accepted the message, 1 with the relay's answer otherwise.
                Example:
                  tessera admin mail test --to ops@example.com --mail-url 'smtp://user:pass@smtp.example.com:587'
                """)
        @Option(help: "The recipient.") var to: String
        @Option(name: .customLong("mail-url"), help: "The relay to test (default: the mail_url setting).") var mailURL: String?
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard EmailAddress(to) != nil else { throw ValidationError("--to must be one email address") }
        }

        func run() async throws {
            var settings = try options.settings.resolve()
            if let mailURL {
                do throws(MailEndpoint.Invalid) {
                    _ = try MailEndpoint(parsing: mailURL)
                } catch {
                    throw AdminError.usage("invalid --mail-url: \(error.description)")
                }
                settings.mailURL = mailURL
            }
            let transport = try MailRuntime.transport(settings)
            let renderer = try MailRuntime.renderer(settings)
            let id = "test." + OpenSSLPrimitives().randomBytes(12).map { String(format: "%02x", $0) }.joined()
            let message = renderer.composer.compose(
                id: id, to: EmailAddress(to)!.display, subject: "\(settings.productName) mail test",
                text: "This message checks that \(settings.productName) can send mail through its relay.\nNo action is needed.",
                html: "<p>This message checks that \(settings.productName) can send mail through its relay.</p><p>No action is needed.</p>",
                date: Date())
            do {
                try await transport.withSession { session in try await session.deliver(message) }
            } catch {
                throw AdminError.declined("the relay did not accept the message: \(error)")
            }
            let json: [String: Any] = ["to": to, "message_id": "<\(id)@\(renderer.composer.messageIDDomain)>", "accepted": true]
            if options.json {
                let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("the relay accepted the test message to \(to)")
            }
        }
    }
}

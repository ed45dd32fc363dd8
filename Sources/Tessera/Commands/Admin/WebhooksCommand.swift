import ArgumentParser
import Foundation
import Logging
import TesseraCore
import TesseraEvents
import TesseraSQLite

/// `tessera admin webhooks …` (contract §9.4): endpoints, their secrets and their deliveries.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "Register webhook endpoints; inspect, retry and replay their deliveries.",
        subcommands: [Create.self, List.self, Show.self, Enable.self, Disable.self, Delete.self, RotateSecret.self, Deliveries.self, Retry.self,
                      Replay.self, Test.self])

    /// The webhook administration over the command's database, shared with the admin API.
    static func administration(_ context: AdminContext) async throws -> WebhookAdmin {
        let deliverer = try await EventsRuntime.deliverer(context.settings, storage: context.storage, logger: Logger(label: "tessera.webhooks"))
        return try await EventsRuntime.admin(context.settings, storage: context.storage, deliverer: deliverer)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an endpoint; prints its id and its signing secret, this once.",
            discussion: """
                The URL must be https:// (http:// only to loopback). Addresses in private, loopback and
                link-local ranges are refused unless webhook_allow_private_networks is true.
                Examples:
                  tessera admin webhooks create --url https://hooks.example.com/tessera
                  tessera admin webhooks create --url https://crm.example.com/in --event user.created --event user.deleted
                """)
        @Option(help: "The endpoint's URL.") var url: String
        @Option(name: .customLong("event"), help: "An event type to deliver (repeatable; default: every type).") var events: [String] = []
        @Option(help: "A note for operators (at most 200 characters).") var description: String?
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let registration = try await WebhooksCommand.administration(context)
                .create(url: url, eventTypes: events, description: description, actor: AdminContext.actor)
            try context.emit(
                json: WebhookAdministrationJSON.registration(registration),
                text: "id: \(registration.endpoint.id)\nsecret: \(registration.secret)\n(the secret is shown only now: give it to the receiver)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the endpoints.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let endpoints = try await WebhooksCommand.administration(context).list()
            try context.emit(
                json: endpoints.map(WebhookAdministrationJSON.endpoint),
                text: TextTable.render(
                    ["ID", "URL", "EVENTS", "ENABLED", "DISABLED_REASON"],
                    endpoints.map {
                        [$0.id, $0.url, $0.eventTypes.map { $0.map(\.rawValue).joined(separator: ",") } ?? "all", $0.enabled ? "yes" : "no",
                         $0.disabledReason ?? ""]
                    }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one endpoint (never its secret).")
        @Argument(help: "The endpoint id.") var id: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let json = WebhookAdministrationJSON.endpoint(try await WebhooksCommand.administration(context).endpoint(id))
            try context.emit(json: json, text: json.keys.sorted().map { "\($0): \(json[$0].map { $0 is NSNull ? "" : "\($0)" } ?? "")" }.joined(separator: "\n"))
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable an endpoint; its waiting deliveries go out again.")
        @Argument(help: "The endpoint id.") var id: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            try await WebhooksCommand.setEnabled(true, id: id, context: context)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an endpoint; nothing is sent to it until it is enabled.")
        @Argument(help: "The endpoint id.") var id: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            try await WebhooksCommand.setEnabled(false, id: id, context: context)
        }
    }

    static func setEnabled(_ enabled: Bool, id: String, context: AdminContext) async throws {
        try await administration(context).setEnabled(enabled, endpointID: id, actor: AdminContext.actor)
        try context.emit(json: ["id": id, "enabled": enabled], text: "webhook \(id) \(enabled ? "enabled" : "disabled")")
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an endpoint and its deliveries (destructive).")
        @Argument(help: "The endpoint id.") var id: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let administration = try await WebhooksCommand.administration(context)
            _ = try await administration.endpoint(id)
            try context.confirm("delete webhook \(id) and its deliveries")
            try await administration.delete(endpointID: id, actor: AdminContext.actor)
            try context.emit(json: ["id": id, "deleted": true], text: "webhook \(id) deleted")
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Give an endpoint a new secret, printed this once; the old one also signs for --overlap seconds (destructive).")
        @Argument(help: "The endpoint id.") var id: String
        @Option(help: "Seconds the old secret keeps signing beside the new one (0-2592000).") var overlap: Int = WebhookAdministrationJSON.defaultOverlap
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard WebhookAdministrationJSON.overlapRange.contains(overlap) else { throw ValidationError("--overlap must be between 0 and 2592000 seconds") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let administration = try await WebhooksCommand.administration(context)
            _ = try await administration.endpoint(id)
            try context.confirm("rotate the secret of webhook \(id)")
            let secret = try await administration.rotateSecret(endpointID: id, overlap: overlap, actor: AdminContext.actor)
            try context.emit(
                json: ["id": id, "secret": secret, "overlap": overlap],
                text: "secret: \(secret)\n(shown only now; the old secret also signs for \(overlap) s)")
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An endpoint's deliveries, newest first.")
        @Argument(help: "The endpoint id.") var id: String
        @Option(help: "Only deliveries with this status: pending, delivered or failed.") var status: String?
        @Option(help: "Only this user's deliveries.") var user: String?
        @Option(help: "How many at most (1-1000).") var limit = 100
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
            if let status, DeliveryStatus(rawValue: status) == nil { throw ValidationError("--status must be pending, delivered or failed") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let deliveries = try await WebhooksCommand.administration(context).deliveries(
                endpointID: id, status: status.flatMap(DeliveryStatus.init(rawValue:)), userID: user, limit: limit)
            try context.emit(
                json: deliveries.map(WebhookAdministrationJSON.delivery),
                text: TextTable.render(
                    ["DELIVERY", "EVENT", "TYPE", "USER", "STATUS", "ATTEMPTS", "LAST_STATUS", "NEXT_ATTEMPT_AT", "LAST_ERROR"],
                    deliveries.map {
                        ["\($0.id)", $0.eventID, $0.eventType.rawValue, $0.userID, $0.status.rawValue, "\($0.attempts)",
                         $0.lastStatus.map(String.init) ?? "", $0.nextAttemptAt?.iso8601 ?? "", String(($0.lastError ?? "").prefix(60))]
                    }))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue dead-lettered deliveries again; the running server sends them within seconds.",
            discussion: """
                Examples:
                  tessera admin webhooks retry 1042
                  tessera admin webhooks retry --all --endpoint whe_3kT…
                """)
        @Argument(help: "The delivery id.") var deliveryID: Int64?
        @Flag(help: "Every failed delivery.") var all = false
        @Option(help: "With --all: only this endpoint's.") var endpoint: String?
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard (deliveryID != nil) != all else { throw ValidationError("name one delivery id, or pass --all") }
            guard endpoint == nil || all else { throw ValidationError("--endpoint goes with --all") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let count = try await WebhooksCommand.administration(context)
                .retry(deliveryID.map { .delivery($0) } ?? .all(endpointID: endpoint), actor: AdminContext.actor)
            try context.emit(json: ["retried": count], text: "re-queued \(count) deliver\(count == 1 ? "y" : "ies")")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver the log after a position again to an endpoint, in order, with the same event ids.",
            discussion: """
                Example:
                  tessera admin webhooks replay whe_3kT… --after 1041 --user 9f2…
                """)
        @Argument(help: "The endpoint id.") var id: String
        @Option(help: "The position after which to replay (exclusive).") var after: Int64
        @Option(help: "Only this user's events.") var user: String?
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard after >= 0 else { throw ValidationError("--after must be a position (0 or more)") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let count = try await WebhooksCommand.administration(context).replay(endpointID: id, after: after, userID: user, actor: AdminContext.actor)
            try context.emit(json: ["id": id, "queued": count], text: "queued \(count) deliver\(count == 1 ? "y" : "ies") to \(id)")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a webhook.test event to an endpoint now; exits 1 unless it answered 2xx.")
        @Argument(help: "The endpoint id.") var id: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let (deliveryID, result) = try await WebhooksCommand.administration(context).test(endpointID: id, actor: AdminContext.actor)
            switch result {
            case .delivered(let status):
                try context.emit(json: ["delivery_id": deliveryID, "delivered": true, "status": status], text: "delivered: the endpoint answered \(status)")
            case nil:
                try context.emit(json: ["delivery_id": deliveryID, "delivered": false], text: "queued as delivery \(deliveryID); the running server sends it")
            case .retry(_, _, let error), .dead(_, let error):
                throw AdminError.declined("not delivered (\(error)); delivery \(deliveryID) is retried on the schedule")
            case .gone:
                throw AdminError.declined("the endpoint answered 410 Gone and is now disabled")
            }
        }
    }
}

/// `tessera admin events list` (contract §9.4): the event log.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Read the event log.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events in log order; --json prints their CloudEvents envelopes.",
            discussion: """
                Examples:
                  tessera admin events list --user 9f2… --json
                  tessera admin events list --after 1041 --type user.email.
                """)
        @Option(help: "Only events after this position (exclusive).") var after: Int64?
        @Option(help: "Only this user's events.") var user: String?
        @Option(help: "Only types starting with this (user.email.).") var type: String?
        @Option(help: "How many at most (1-1000).") var limit = 100
        @OptionGroup var options: AdminOptions

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
            if let after, after < 0 { throw ValidationError("--after must be a position (0 or more)") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let page = try await context.storage.events(EventQuery(after: after, limit: limit, typePrefix: type, subject: user))
            guard case .events(let events, _) = page else {
                throw AdminError.notFound("events after position \(after ?? 0) are past event_retention and gone")
            }
            if options.json {
                print(String(decoding: JSONObjectWriter.arrayOfRaw(events.map { $0.envelope(publicURL: context.settings.publicBaseURL) }), as: UTF8.self))
            } else {
                print(TextTable.render(
                    ["POSITION", "TIME", "TYPE", "SUBJECT", "SEQUENCE", "ID"],
                    events.map { ["\($0.position)", $0.time.iso8601, $0.type.rawValue, $0.subject, "\($0.sequence)", $0.id] }))
            }
        }
    }
}

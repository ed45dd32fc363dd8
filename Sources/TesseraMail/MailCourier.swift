import Foundation
import Logging
import TesseraCore

/// Turns a queued message into the bytes a transport carries: its templates rendered with
/// its variables and the settings', composed as RFC 5322.
public struct MailRenderer: Sendable {
    public let templates: MailTemplates
    public let composer: MessageComposer
    let productName: String
    let publicURL: String

    public init(templates: MailTemplates, settings: Settings) {
        self.templates = templates
        let sender = settings.mailSender
        self.composer = MessageComposer(from: sender, messageIDDomain: String(sender.address.split(separator: "@").last ?? "localhost"))
        self.productName = settings.productName
        self.publicURL = settings.publicBaseURL
    }

    public func message(for mail: MailRequest, date: Date) -> OutgoingMessage {
        var variables = mail.variables
        variables["product_name"] = productName
        variables["public_url"] = publicURL
        let locale = templates.locale(for: mail.template, requested: mail.locale)
        let rendered = templates.render(mail.template, locale: locale, variables: variables)
        return composer.compose(id: mail.id, to: mail.recipient, subject: rendered.subject, text: rendered.text, html: rendered.html, date: date)
    }
}

/// Delivers the durable mail queue (contract §8.5), inside `tessera serve`: each due message
/// is rendered and handed to the transport, several per connection. A message whose code has
/// died first is marked `expired` and never sent. Temporary failures are retried after
/// `mail_retry_base_delay × 2^(n−1)` up to `mail_max_attempts`; permanent ones fail at once.
/// The queue is in the database, so messages left by a crash or restart go out after it.
public final class MailCourier: Sendable {
    let store: any MailOutbox
    let transport: any MailTransport
    let renderer: MailRenderer
    let maxAttempts: Int
    let retryBaseDelay: TimeInterval
    /// This instance's name on the messages it claims, and how long a claim lasts.
    let instanceID: String
    let leaseLength: TimeInterval
    let now: Now
    let logger: Logger
    private let wake = ChangeNotifier()
    /// How often an idle courier looks for messages queued by another process (the admin CLI).
    public static let idlePollInterval: TimeInterval = 5
    /// Messages taken per batch (and so, at most, per connection).
    static let batchSize = 64

    public init(store: any MailOutbox, transport: any MailTransport, renderer: MailRenderer, settings: Settings, now: @escaping Now, logger: Logger) {
        self.store = store
        self.transport = transport
        self.renderer = renderer
        self.maxAttempts = settings.mailMaxAttempts
        self.retryBaseDelay = settings.mailRetryBaseDelay
        self.instanceID = settings.instanceID
        self.leaseLength = settings.leaseTimeout
        self.now = now
        self.logger = logger
    }

    /// Asks the courier to look at the queue (after a change queued mail), a moment later:
    /// sending must not compete with the answer to the request that queued it, whose time
    /// would otherwise tell that an account exists (contract §8.3).
    public func nudge() {
        let wake = wake
        Task {
            try? await Task.sleep(for: .milliseconds(Self.nudgeDelayMilliseconds))
            wake.notify()
        }
    }

    static let nudgeDelayMilliseconds = 25

    /// Runs until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            // Noted before looking, so that a nudge while it looks is not lost.
            let seen = wake.generation
            do {
                try await deliverDue()
                let next = try await store.nextMailDue()
                let delay = next.map { $0.timeIntervalSince(now()) } ?? Self.idlePollInterval
                await wake.wait(beyond: seen, seconds: min(max(delay, 0.01), Self.idlePollInterval))
            } catch {
                if Task.isCancelled { return }
                logger.error("mail courier: storage failed", metadata: ["error": "\(error)"])
                await wake.wait(beyond: seen, seconds: Self.idlePollInterval)
            }
        }
    }

    /// Works through every message due now, once each, on as few connections as it can: a
    /// session stays open while batches keep coming. Returns how many were attempted.
    @discardableResult
    public func deliverDue() async throws -> Int {
        var attempted = 0
        var pending = try await nextBatch()[...]
        while !pending.isEmpty {
            do {
                try await transport.withSession { session in
                    // A message's "sent" is written while the next one goes out; it is
                    // awaited before the queue is read again, so nothing is sent twice.
                    var marking: Task<Void, any Error>?
                    do {
                        while !pending.isEmpty {
                            while let mail = pending.popFirst() {
                                attempted += 1
                                guard try await deliver(mail, through: session) else { continue }
                                try await marking?.value
                                marking = markSent(mail)
                            }
                            try await marking?.value
                            marking = nil
                            pending = try await nextBatch()[...]
                        }
                    } catch {
                        _ = try? await marking?.value
                        throw error
                    }
                }
            } catch {
                // Shutting down: what was not sent stays queued as it was.
                if Task.isCancelled { throw CancellationError() }
                // The connection could not open, or broke: what it did not carry is retried.
                let failure = error as? MailDeliveryError ?? .temporary(String(describing: error))
                attempted += pending.count
                for mail in pending { try await recordFailure(mail, failure) }
                pending = try await nextBatch()[...]
            }
        }
        return attempted
    }

    /// The next messages due, those whose code has died marked `expired` instead.
    private func nextBatch() async throws -> [QueuedMail] {
        while true {
            let now = now()
            let due = try await store.claimMail(now: now, limit: Self.batchSize, lease: Lease(holder: instanceID, until: now + leaseLength))
            if due.isEmpty { return [] }
            var sendable: [QueuedMail] = []
            for mail in due {
                if let expiry = mail.request.codeExpiresAt, expiry <= now {
                    try await store.markMailExpired(id: mail.id, now: now)
                    logger.info("mail expired before it could be sent", metadata: ["mail.id": "\(mail.id)", "mail.template": "\(mail.request.template.rawValue)"])
                } else {
                    sendable.append(mail)
                }
            }
            if !sendable.isEmpty { return sendable }
        }
    }

    /// Sends one message: true when the relay took it. A failure of this message is recorded
    /// (false) and the session goes on; a broken session is recorded against it and thrown.
    private func deliver(_ mail: QueuedMail, through session: any MailSession) async throws -> Bool {
        let message = renderer.message(for: mail.request, date: now())
        do {
            try await session.deliver(message)
            return true
        } catch let error as MailDeliveryError {
            try await recordFailure(mail, error)
            return false
        } catch {
            try await recordFailure(mail, .temporary(String(describing: error)))
            throw error
        }
    }

    /// Records a sent message (its code leaves the store), in the background.
    private func markSent(_ mail: QueuedMail) -> Task<Void, any Error> {
        let (store, logger, now) = (store, logger, now)
        return Task {
            try await store.markMailSent(id: mail.id, now: now())
            logger.info("mail sent", metadata: [
                "mail.id": "\(mail.id)", "mail.template": "\(mail.request.template.rawValue)", "attempt": "\(mail.attempts + 1)",
            ])
        }
    }

    private func recordFailure(_ mail: QueuedMail, _ error: MailDeliveryError) async throws {
        let attempts = mail.attempts + 1
        let retryAt = error.isPermanent || attempts >= maxAttempts
            ? nil : now().addingTimeInterval(retryBaseDelay * pow(2, Double(attempts - 1)))
        try await store.markMailFailed(id: mail.id, error: error.description, retryAt: retryAt, now: now())
        logger.warning(retryAt == nil ? "mail failed for good" : "mail delivery failed; will retry", metadata: [
            "mail.id": "\(mail.id)", "mail.template": "\(mail.request.template.rawValue)", "attempt": "\(attempts)",
            "error": "\(error)",
        ])
    }
}

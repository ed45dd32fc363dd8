import Foundation

/// Where a queued message stands (contract §8.7 `mail list`).
public enum MailStatus: String, Sendable, CaseIterable, Codable {
    /// Waiting for its first or next attempt.
    case queued
    case sent
    /// Gave up: a permanent refusal, or `mail_max_attempts` temporary failures.
    case failed
    /// Its code died before it could be sent; never sent.
    case expired
}

/// A message to put in the durable queue, in the transaction of the change that causes it.
/// Only the template's variables are stored, not a rendered body; the courier renders at
/// sending time, and the code is removed from the variables once it is no longer needed.
public struct MailRequest: Sendable, Equatable {
    /// A unique id: the file name under `file:`, the local part of the `Message-ID`.
    public var id: String
    public var userID: String?
    /// The one address the message goes to.
    public var recipient: String
    public var template: MailTemplateName
    /// The user's `locale` attribute, when set; the courier falls back to `en`.
    public var locale: String?
    /// Template variables that are not settings: `code`, `expires_in_minutes`, `email`, `changed_at`.
    public var variables: [String: String]
    /// When the code in ``variables`` dies: a message still queued then is marked `expired`.
    public var codeExpiresAt: Date?

    public init(
        id: String, userID: String?, recipient: String, template: MailTemplateName, locale: String?,
        variables: [String: String], codeExpiresAt: Date?
    ) {
        self.id = id
        self.userID = userID
        self.recipient = recipient
        self.template = template
        self.locale = locale
        self.variables = variables
        self.codeExpiresAt = codeExpiresAt
    }
}

/// A message in the queue, as stored.
public struct QueuedMail: Sendable, Equatable {
    public var request: MailRequest
    public var status: MailStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var createdAt: Date

    public init(request: MailRequest, status: MailStatus, attempts: Int, nextAttemptAt: Date, lastError: String?, createdAt: Date) {
        self.request = request
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.createdAt = createdAt
    }

    public var id: String { request.id }
}

/// The durable mail queue (contract §8.5). Messages enter it inside the transactions of the
/// stores that cause them (sign-up, codes, password changes); this protocol is the courier's
/// and the admin CLI's side of it.
public protocol MailOutbox: Sendable {
    /// Claims queued messages due at `now` and not leased (or whose lease has run out), oldest
    /// first, under `lease`: no other caller, on any instance, claims them until it ends or
    /// the message is marked.
    func claimMail(now: Date, limit: Int, lease: Lease) async throws -> [QueuedMail]
    /// When the earliest queued message is due (or its lease ends), if any.
    func nextMailDue() async throws -> Date?
    /// Sent: the code leaves the stored variables.
    func markMailSent(id: String, now: Date) async throws
    /// Its code died before it could go: marked `expired`, the code removed.
    func markMailExpired(id: String, now: Date) async throws
    /// A failed attempt: queued again at `retryAt`, or `failed` when nil. A failed message keeps
    /// its code while the code lives (for `mail retry`); the retention sweep removes it after.
    func markMailFailed(id: String, error: String, retryAt: Date?, now: Date) async throws
    /// One message by id.
    func mail(id: String) async throws -> QueuedMail?
    /// The queue, newest first, filtered by status and recipient (case-insensitively).
    func listMail(status: MailStatus?, recipient: String?, limit: Int) async throws -> [QueuedMail]
    /// Re-queues failed messages (these ids, or all when nil) whose code, if any, is still
    /// alive at `now`, with their attempts reset. Returns the ids re-queued.
    func retryFailedMail(ids: [String]?, now: Date) async throws -> [String]
}

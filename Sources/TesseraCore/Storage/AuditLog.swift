import Foundation

/// One admin action in the audit log.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    /// Who ran it, as the operating system tells (login name, else user id).
    public var actor: String
    public var action: String
    public var target: String?
    public var details: String?

    public init(id: Int64, at: Date, actor: String, action: String, target: String?, details: String?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.details = details
    }
}

/// The audit log of admin actions.
public protocol AuditLog: Sendable {
    func recordAdminAction(actor: String, action: String, target: String?, details: String?, now: Date) async throws
    /// The most recent entries, newest first; with `before`, only entries older than that id.
    func adminActions(limit: Int, before: Int64?) async throws -> [AuditEntry]
}

extension AuditLog {
    /// The most recent entries, newest first.
    public func adminActions(limit: Int) async throws -> [AuditEntry] {
        try await adminActions(limit: limit, before: nil)
    }
}

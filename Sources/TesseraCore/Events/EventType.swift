/// The types of events in the log (contract §9.1).
public enum EventType: String, Sendable, CaseIterable, Codable {
    case userCreated = "user.created"
    case userUpdated = "user.updated"
    case emailVerified = "user.email.verified"
    case emailAdded = "user.email.added"
    case emailRemoved = "user.email.removed"
    case primaryEmailChanged = "user.email.primary_changed"
    case passwordChanged = "user.password.changed"
    case passwordReset = "user.password.reset"
    case userDisabled = "user.disabled"
    case userEnabled = "user.enabled"
    case userDeleted = "user.deleted"
    case sessionsRevoked = "user.sessions.revoked"
    case refreshTokenReuseDetected = "user.refresh_token.reuse_detected"
    case userLocked = "user.locked"
    case webhookTest = "webhook.test"
    case webhookEndpointDisabled = "webhook.endpoint.disabled"

    /// Whether the event's subject is a user (else a webhook endpoint).
    public var isAboutUser: Bool { rawValue.hasPrefix("user.") }
}

import Foundation

/// An event about to be appended to the log: its type, its subject (a user id, or a webhook
/// endpoint id for the operational types) and its `data` object. The store adds the id, the
/// time, the subject's `sequence` and the log's `position` in the transaction that appends it.
///
/// The constructors below are the one place that decides what each type's `data` holds. A
/// user event carries the user as the change left them (`user_id`, `email`,
/// `email_verified`, `status`) and what is particular to the change. Nothing secret ever goes
/// in: no password, hash, code, token or secret.
public struct NewEvent: Sendable, Equatable {
    public let type: EventType
    public let subject: String
    /// One JSON object, UTF-8.
    public let data: [UInt8]

    public init(type: EventType, subject: String, data: [UInt8]) {
        self.type = type
        self.subject = subject
        self.data = data
    }

    /// The members of `data` that identify a person; erased from every event of a user once
    /// the user is deleted (contract §9.1). Stores remove exactly these keys.
    public static let personalKeys = ["email", "address", "previous_email", "attributes"]

    /// An event about `user` with the user's standing fields and then `extra`'s members.
    public static func about(_ user: User, _ type: EventType, extra: (inout JSONObjectWriter) -> Void = { _ in }) -> NewEvent {
        var data = JSONObjectWriter(capacity: 160)
        data.add("user_id", user.id)
        data.add("email", user.email)
        data.add("email_verified", user.emailVerified)
        data.add("status", user.status.rawValue)
        extra(&data)
        return NewEvent(type: type, subject: user.id, data: data.finish())
    }

    public static func created(_ user: User) -> NewEvent {
        about(user, .userCreated) { $0.add("attributes", user.attributes) }
    }

    /// `changed` names the attributes whose values differ (added, changed or removed).
    public static func updated(_ user: User, changed: [String]) -> NewEvent {
        about(user, .userUpdated) { data in
            data.add("changed", changed.sorted())
            data.add("attributes", user.attributes)
        }
    }

    /// The names of the attributes that differ between `old` and `new`, sorted.
    public static func changedAttributes(_ old: [String: String], _ new: [String: String]) -> [String] {
        Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted()
    }

    /// `address` was proven: the primary or a further address.
    public static func emailVerified(_ user: User, address: String) -> NewEvent {
        about(user, .emailVerified) { $0.add("address", address) }
    }

    public static func emailAdded(_ user: User, address: String) -> NewEvent {
        about(user, .emailAdded) { $0.add("address", address) }
    }

    public static func emailRemoved(_ user: User, address: String) -> NewEvent {
        about(user, .emailRemoved) { $0.add("address", address) }
    }

    /// `user` as it is after the change; `previous` was the primary before.
    public static func primaryEmailChanged(_ user: User, previous: String) -> NewEvent {
        about(user, .primaryEmailChanged) { $0.add("previous_email", previous) }
    }

    public static func passwordChanged(_ user: User) -> NewEvent { about(user, .passwordChanged) }

    public static func passwordReset(_ user: User) -> NewEvent { about(user, .passwordReset) }

    /// `user.disabled` or `user.enabled`, as the user's new status says.
    public static func statusChanged(_ user: User) -> NewEvent {
        about(user, user.status == .disabled ? .userDisabled : .userEnabled)
    }

    /// Why every refresh family of a user was revoked.
    public enum RevocationReason: String, Sendable {
        case signOut = "sign_out"
        case passwordChanged = "password_changed"
        case passwordReset = "password_reset"
        case disabled
    }

    public static func sessionsRevoked(_ user: User, reason: RevocationReason) -> NewEvent {
        about(user, .sessionsRevoked) { $0.add("reason", reason.rawValue) }
    }

    public static func refreshTokenReuse(_ user: User, familyID: String, clientID: String) -> NewEvent {
        about(user, .refreshTokenReuseDetected) { data in
            data.add("family_id", familyID)
            data.add("client_id", clientID)
        }
    }

    /// The account reached its failed-login limit; password sign-in is refused until `until`.
    public static func locked(_ user: User, until: Date) -> NewEvent {
        about(user, .userLocked) { $0.add("locked_until", UTCTime(until).rfc3339) }
    }

    /// The user is erased: nothing personal is left to say.
    public static func deleted(userID: String) -> NewEvent {
        var data = JSONObjectWriter(capacity: 64)
        data.add("user_id", userID)
        data.add("status", "deleted")
        return NewEvent(type: .userDeleted, subject: userID, data: data.finish())
    }

    public static func webhookTest(endpointID: String) -> NewEvent {
        var data = JSONObjectWriter(capacity: 96)
        data.add("endpoint_id", endpointID)
        data.add("message", "a test event sent by tessera admin webhooks test")
        return NewEvent(type: .webhookTest, subject: endpointID, data: data.finish())
    }

    public static func endpointDisabled(endpointID: String, url: String, reason: String) -> NewEvent {
        var data = JSONObjectWriter(capacity: 160)
        data.add("endpoint_id", endpointID)
        data.add("url", url)
        data.add("reason", reason)
        return NewEvent(type: .webhookEndpointDisabled, subject: endpointID, data: data.finish())
    }
}

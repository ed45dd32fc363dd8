/// The messages Tessera sends (contract §8.6). Each is a Mustache trio `NAME/LOCALE/subject.txt`,
/// `body.txt`, `body.html`, built in for `en` and overridable from `mail_templates_dir`.
public enum MailTemplateName: String, Sendable, CaseIterable, Codable {
    case verificationCode = "verification_code"
    case recoveryCode = "recovery_code"
    case addEmailCode = "add_email_code"
    case passwordChanged = "password_changed"
    case emailAdded = "email_added"
    case emailChanged = "email_changed"
    case emailRemoved = "email_removed"
    case accountDeleted = "account_deleted"

    /// Whether the message carries a one-time code (and so must show it, and expires with it).
    public var carriesCode: Bool {
        switch self {
        case .verificationCode, .recoveryCode, .addEmailCode: true
        default: false
        }
    }
}

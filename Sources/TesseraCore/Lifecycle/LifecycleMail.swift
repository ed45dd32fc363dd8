import Foundation

/// Builds the codes and messages of the account lifecycle (contract §8.2, §8.6): a code with
/// its keyed hash and the message that carries it, and notices.
public struct LifecycleMail: Sendable {
    let settings: Settings
    let secret: CodeSecret
    let crypto: any CryptoPrimitives

    public init(settings: Settings, secret: CodeSecret, crypto: any CryptoPrimitives) {
        self.settings = settings
        self.secret = secret
        self.crypto = crypto
    }

    /// How long a code of `purpose` lives.
    public func lifetime(of purpose: CodePurpose) -> TimeInterval {
        purpose == .recover ? settings.recoveryCodeTTL : settings.verificationCodeTTL
    }

    /// A fresh code of `purpose` for `user`, bound to `address`, and its message to `address`.
    public func code(for user: User, purpose: CodePurpose, address: String, now: Date) -> NewCode {
        let code = OneTimeCode.generate(length: settings.codeLength, using: crypto)
        let key = address.lowercased()
        let lifetime = lifetime(of: purpose)
        let expiresAt = now.addingTimeInterval(lifetime)
        let template: MailTemplateName = switch purpose {
        case .verifyEmail: .verificationCode
        case .recover: .recoveryCode
        case .addEmail: .addEmailCode
        }
        let mail = MailRequest(
            id: messageID(), userID: user.id, recipient: address, template: template, locale: user.attributes["locale"],
            variables: ["code": code.digits, "expires_in_minutes": String(Int((lifetime / 60).rounded(.up))), "email": address],
            codeExpiresAt: expiresAt)
        return NewCode(
            userID: user.id, purpose: purpose, emailKey: key,
            hash: code.hash(secret: secret, userID: user.id, purpose: purpose, emailKey: key, using: crypto),
            expiresAt: expiresAt, mail: mail)
    }

    /// Whether `presented` is the code stored as `stored` for this user, purpose and address,
    /// compared in constant time.
    public func matches(_ presented: OneTimeCode, user: User, purpose: CodePurpose, emailKey: String, stored: StoredCode) -> Bool {
        constantTimeEquals(presented.hash(secret: secret, userID: user.id, purpose: purpose, emailKey: emailKey, using: crypto), stored.hash)
    }

    /// A notice (`password_changed`, `email_added`, …) to `address` about `user`'s account.
    public func notice(_ template: MailTemplateName, to address: String, about email: String, user: User, now: Date) -> MailRequest {
        MailRequest(
            id: messageID(), userID: user.id, recipient: address, template: template, locale: user.attributes["locale"],
            variables: ["email": email, "changed_at": Self.timestamp(now)], codeExpiresAt: nil)
    }

    /// How long the hosted code page may sign the user in after a sign-up or a right password.
    public static let pendingSignInLifetime: TimeInterval = 1800

    /// For the hosted pages: proof that the browser holding `binding` (its CSRF token) has just
    /// signed up, or given the right password, for the account of `emailKey`, so that the code
    /// page may sign the user in once the code is right. An expiry and an HMAC under the code
    /// secret; it proves nothing about any other account or browser.
    public func pendingSignIn(emailKey: String, binding: String, now: Date) -> String {
        let expiry = Int(now.timeIntervalSince1970 + Self.pendingSignInLifetime)
        return "\(expiry).\(pendingMAC(emailKey: emailKey, binding: binding, expiry: expiry))"
    }

    public func verifyPendingSignIn(_ proof: String, emailKey: String, binding: String, now: Date) -> Bool {
        let parts = proof.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let expiry = Int(parts[0]), Double(expiry) > now.timeIntervalSince1970 else { return false }
        return constantTimeEquals(Array(parts[1].utf8), Array(pendingMAC(emailKey: emailKey, binding: binding, expiry: expiry).utf8))
    }

    private func pendingMAC(emailKey: String, binding: String, expiry: Int) -> String {
        Base64URL.encode(crypto.hmacSHA256(key: secret.bytes, Array("pending sign-in\n\(emailKey)\n\(expiry)\n\(binding)".utf8)))
    }

    /// A unique message id (also the `.eml` file name): the time, then 96 random bits.
    func messageID() -> String {
        let millis = String(Int64(Date().timeIntervalSince1970 * 1000), radix: 36)
        return millis + "." + crypto.randomBytes(12).map { String(format: "%02x", $0) }.joined()
    }

    /// `2026-12-06 10:45 UTC`.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d UTC", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0)
    }
}

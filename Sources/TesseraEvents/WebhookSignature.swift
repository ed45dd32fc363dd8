import Foundation
import TesseraCore

/// Standard Webhooks signing (https://www.standardwebhooks.com): secrets are `whsec_` and the
/// base64 of 32 random bytes; a signature is `v1,` and the base64 of
/// HMAC-SHA256(secret bytes, `id.timestamp.body`).
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"

    /// A new secret: its 32 key bytes and the `whsec_…` text the operator sees once.
    public static func makeSecret(using crypto: some CryptoPrimitives) -> (text: String, key: [UInt8]) {
        let key = crypto.randomBytes(32)
        return (secretPrefix + Data(key).base64EncodedString(), key)
    }

    /// The key bytes of a `whsec_…` secret, or nil for anything else.
    public static func keyBytes(of secret: String) -> [UInt8]? {
        guard secret.hasPrefix(secretPrefix), let bytes = Data(base64Encoded: String(secret.dropFirst(secretPrefix.count))), bytes.count >= 24 else {
            return nil
        }
        return [UInt8](bytes)
    }

    /// The `webhook-signature` header's value: one `v1,` signature per key, space-separated,
    /// in the order given (the old key first during a rotation's overlap).
    public static func header(id: String, timestamp: Int, body: [UInt8], keys: [[UInt8]], using crypto: some CryptoPrimitives) -> String {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return keys.map { "v1," + Data(crypto.hmacSHA256(key: $0, signed)).base64EncodedString() }.joined(separator: " ")
    }
}

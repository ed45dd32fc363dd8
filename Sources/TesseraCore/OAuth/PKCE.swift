/// Proof Key for Code Exchange (RFC 7636) with `S256` only: `plain` is refused.
public enum PKCE {
    public static let method = "S256"

    /// A challenge or verifier: 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1, §4.2).
    public static func isWellFormed(_ value: String) -> Bool {
        (43...128).contains(value.utf8.count) && value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
        }
    }

    /// Whether `verifier` answers `challenge`: base64url(SHA-256(verifier)) == challenge,
    /// compared in constant time.
    public static func verify(_ verifier: String, challenge: String, using crypto: some CryptoPrimitives) -> Bool {
        guard isWellFormed(verifier) else { return false }
        let computed = Base64URL.encode(crypto.sha256(Array(verifier.utf8)))
        return constantTimeEquals(Array(computed.utf8), Array(challenge.utf8))
    }
}

/// Failures of the crypto module. Descriptions are for operators and logs.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not a PEM private key OpenSSL can read (or it is encrypted).
    case unreadableKey(String)
    /// The key is not RSA.
    case notRSA
    /// The key is smaller than Tessera accepts.
    case keyTooSmall(bits: Int, minimum: Int)
    /// A JWK is missing members or has values that do not form an RSA public key.
    case invalidJWK(String)
    /// OpenSSL reported a failure.
    case openSSL(String)

    public var description: String {
        switch self {
        case .unreadableKey(let reason): "not a readable RSA private key in PEM: \(reason)"
        case .notRSA: "not an RSA key"
        case .keyTooSmall(let bits, let minimum): "RSA key of \(bits) bits is too small (minimum \(minimum))"
        case .invalidJWK(let reason): "invalid JWK: \(reason)"
        case .openSSL(let reason): "OpenSSL: \(reason)"
        }
    }
}

import Foundation
import TesseraCore

/// An RSA public JSON Web Key (RFC 7517 §4, RFC 7518 §6.3.1).
public struct JWK: Codable, Sendable, Equatable {
    public var kty: String
    public var n: String
    public var e: String
    public var alg: String?
    public var use: String?
    public var kid: String?

    public init(kty: String, n: String, e: String, alg: String?, use: String?, kid: String?) {
        self.kty = kty
        self.n = n
        self.e = e
        self.alg = alg
        self.use = use
        self.kid = kid
    }

    /// The RFC 7638 thumbprint of an RSA key: base64url(SHA-256 of the required members in
    /// lexicographic order, no whitespace).
    public static func thumbprint(n: String, e: String) -> String {
        // n and e are base64url: nothing in them needs JSON escaping.
        Base64URL.encode(SHA256.hash(#"{"e":"\#(e)","kty":"RSA","n":"\#(n)"}"#))
    }

    /// Canonical JSON with sorted keys, as stored and published.
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of strings cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

/// A JWK Set (RFC 7517 §5).
public struct JWKSet: Codable, Sendable, Equatable {
    public var keys: [JWK]

    public init(keys: [JWK]) {
        self.keys = keys
    }
}

import Foundation

/// The `aud` claim: one audience or several (RFC 7519 §4.1.3).
public enum Audience: Codable, Sendable, Equatable {
    case one(String)
    case many([String])

    /// Every audience the claim names.
    public var values: [String] {
        switch self {
        case .one(let value): [value]
        case .many(let values): values
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(String.self) {
            self = .one(value)
        } else {
            self = .many(try container.decode([String].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .one(let value): try container.encode(value)
        case .many(let values): try container.encode(values)
        }
    }
}

/// The registered claims every token Tessera verifies must carry (RFC 7519 §4.1).
public protocol RegisteredClaims: Codable, Sendable {
    var iss: String { get }
    var aud: Audience { get }
    /// Expiry, seconds since the epoch.
    var exp: Int { get }
    /// Not-before, seconds since the epoch, when present.
    var nbf: Int? { get }
}

/// What a verifier insists on besides a valid signature.
public struct TokenExpectations: Sendable {
    /// The JOSE `typ` header the token must carry, e.g. `at+jwt`.
    public var type: String
    public var issuer: String
    /// One of these must appear in `aud`; nil accepts any audience (for the issuer's own
    /// endpoints that serve every client: userinfo, introspection, revocation).
    public var audiences: Set<String>?
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    public var leeway: Int
    public var now: Date

    public init(type: String, issuer: String, audiences: Set<String>?, leeway: Int = 30, now: Date) {
        self.type = type
        self.issuer = issuer
        self.audiences = audiences
        self.leeway = leeway
        self.now = now
    }
}

/// Why a token was refused. The description is for logs; clients only ever see `invalid_token`.
public enum TokenError: Error, Equatable, Sendable {
    case malformed
    case unsupportedAlgorithm(String)
    case wrongType
    case unknownKey
    case badSignature
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
}

/// Signs JWTs with the current signing key (RS256).
public protocol TokenSigner: Sendable {
    /// Signs `claims` as a compact JWS with header `{"alg":"RS256","typ":type,"kid":…}`.
    func sign<Claims: Encodable>(_ claims: Claims, type: String) throws -> String
}

/// Verifies JWTs strictly: RS256 only, `kid` looked up in Tessera's own key set, `typ`,
/// `exp`/`nbf` (with leeway), `iss` and `aud` checked.
public protocol TokenVerifier: Sendable {
    func verify<Claims: RegisteredClaims>(
        _ token: String, as claims: Claims.Type, expecting: TokenExpectations
    ) throws(TokenError) -> Claims
}

/// A response body built once and served many times, with its entity tag.
public struct PublishedDocument: Sendable, Equatable {
    public let body: Data
    /// A strong entity tag, quoted, e.g. `"3f1c…"`.
    public let etag: String

    public init(body: Data, etag: String) {
        self.body = body
        self.etag = etag
    }

    /// A document whose entity tag is derived from its bytes (FNV-1a, 64 bits), so it is
    /// the same across restarts and instances while the content is.
    public init(body: Data) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        self.init(body: body, etag: "\"" + String(hash, radix: 16) + "\"")
    }
}

/// Publishes the public half of the signing keys as a JWK Set (RFC 7517).
public protocol KeySetPublisher: Sendable {
    /// The current JWKS document: the active key and every retiring key still verifying tokens.
    func jwks() -> PublishedDocument
    /// Whether a signing key is loaded (for readiness).
    var hasActiveKey: Bool { get }
}

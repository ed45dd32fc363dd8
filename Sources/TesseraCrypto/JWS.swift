import Foundation
import TesseraCore

/// The protected header of a JWS (RFC 7515 §4.1), as far as Tessera reads it.
struct JOSEHeader: Codable {
    var alg: String
    var typ: String?
    var kid: String?
    var crit: [String]?
}

/// Compact JWS with RS256 (RFC 7515 §7.1, RFC 7518 §3.3): the only algorithm Tessera signs
/// with or accepts.
public enum JWS {
    public static let algorithm = "RS256"

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Signs `claims` with `key`, naming it by `kid` in the header.
    public static func sign<Claims: Encodable>(
        _ claims: Claims, type: String, kid: String, key: RSAPrivateKey
    ) throws -> String {
        var header = JSONObjectWriter(capacity: 96)
        header.add("alg", algorithm)
        header.add("kid", kid)
        header.add("typ", type)
        // Tessera's own claims write themselves (a tenth of JSONEncoder's cost); others encode.
        let payload = if let writable = claims as? any JSONObjectWritable { writable.jsonObjectBytes } else { Array(try encoder.encode(claims)) }
        let signingInput = Base64URL.encode(header.finish()) + "." + Base64URL.encode(payload)
        let signature = try key.signRS256(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Verifies a compact JWS strictly and returns its claims:
    /// `alg` must be RS256 (so `none` and HMAC are refused), no `crit`, `typ` as expected,
    /// `kid` present and found by `lookUp`, the signature valid, and the registered claims
    /// (`iss`, `aud`, `exp`, `nbf`) within expectations.
    public static func verify<Claims: RegisteredClaims>(
        _ token: String,
        as: Claims.Type,
        expecting expectations: TokenExpectations,
        lookUp: (String) -> RSAPublicKey?
    ) throws(TokenError) -> Claims {
        let verified = try verifySignature(token, as: Claims.self, lookUp: lookUp)
        try check(verified, expecting: expectations)
        return verified.claims
    }

    /// A token whose header and signature were verified, before its claims are checked
    /// against the expectations of the moment.
    struct SignedClaims<Claims: RegisteredClaims>: Sendable {
        /// The `typ` header.
        var type: String
        var claims: Claims
    }

    /// Everything that depends on the token's bytes and the key only: the header's `alg`,
    /// `crit` and `kid`, the signature, and the claims' JSON.
    static func verifySignature<Claims: RegisteredClaims>(
        _ token: String, as: Claims.Type, lookUp: (String) -> RSAPublicKey?
    ) throws(TokenError) -> SignedClaims<Claims> {
        // Split on bytes: splitting the String walks ~800 Characters with grapheme breaking.
        let bytes = token.utf8
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }),
              let headerBytes = Base64URL.decode(bytes: parts[0]),
              let payloadBytes = Base64URL.decode(bytes: parts[1]),
              let signature = Base64URL.decode(bytes: parts[2]),
              let header = try? JSONDecoder().decode(JOSEHeader.self, from: headerBytes)
        else { throw .malformed }
        guard header.alg == algorithm else { throw .unsupportedAlgorithm(header.alg) }
        guard header.crit == nil else { throw .malformed }
        guard let type = header.typ else { throw .wrongType }
        guard let kid = header.kid, let key = lookUp(kid) else { throw .unknownKey }
        let signingInput = Array(bytes[bytes.startIndex..<parts[1].endIndex])
        guard key.verifyRS256(signature: Array(signature), message: signingInput) else { throw .badSignature }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: payloadBytes) else { throw .malformed }
        return SignedClaims(type: type, claims: claims)
    }

    /// What depends on the moment and the endpoint: `typ`, `exp`, `nbf`, `iss` and `aud`.
    static func check<Claims>(_ verified: SignedClaims<Claims>, expecting expectations: TokenExpectations) throws(TokenError) {
        guard typeMatches(verified.type, expectations.type) else { throw .wrongType }
        let claims = verified.claims
        let now = expectations.now.epochSeconds
        guard claims.exp + expectations.leeway > now else { throw .expired }
        if let nbf = claims.nbf, nbf - expectations.leeway > now { throw .notYetValid }
        guard claims.iss == expectations.issuer else { throw .wrongIssuer }
        if let audiences = expectations.audiences {
            guard claims.aud.values.contains(where: audiences.contains) else { throw .wrongAudience }
        }
    }

    /// `typ` compares case-insensitively and may carry the `application/` prefix (RFC 7515 §4.1.9).
    private static func typeMatches(_ actual: String, _ expected: String) -> Bool {
        let actual = actual.lowercased()
        let expected = expected.lowercased()
        return actual == expected || actual == "application/" + expected
    }
}

import Foundation
import Testing
import TesseraCore
@testable import TesseraCrypto

struct TestClaims: RegisteredClaims, Equatable {
    var iss: String
    var aud: Audience
    var exp: Int
    var nbf: Int?
    var sub: String
}

@Suite("JWS RS256, strict")
struct JWSTests {
    static let key = try! RSAPrivateKey.generate()
    static let kid = key.publicKey.jwk.kid!
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    var claims: TestClaims {
        TestClaims(iss: "https://id.example", aud: .one("api"), exp: now.epochSeconds + 900, nbf: nil, sub: "user-1")
    }

    var expectations: TokenExpectations {
        TokenExpectations(type: "at+jwt", issuer: "https://id.example", audiences: ["api"], leeway: 30, now: now)
    }

    func verify(_ token: String, expecting: TokenExpectations? = nil) throws(TokenError) -> TestClaims {
        try JWS.verify(token, as: TestClaims.self, expecting: expecting ?? expectations) { $0 == Self.kid ? Self.key.publicKey : nil }
    }

    func sign(_ claims: TestClaims, type: String = "at+jwt") throws -> String {
        try JWS.sign(claims, type: type, kid: Self.kid, key: Self.key)
    }

    /// A token with the given header and payload JSON and signature bytes.
    func forge(header: String, payload: String, signature: [UInt8] = []) -> String {
        Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "." + Base64URL.encode(signature)
    }

    @Test("a token we sign verifies and returns its claims")
    func roundTrip() throws {
        let token = try sign(claims)
        #expect(try verify(token) == claims)
        let header = try JSONSerialization.jsonObject(with: Base64URL.decode(token.split(separator: ".")[0])!) as? [String: String]
        #expect(header == ["alg": "RS256", "typ": "at+jwt", "kid": Self.kid])
    }

    @Test("alg none is refused")
    func algNone() throws {
        let payload = String(decoding: try JSONEncoder().encode(claims), as: UTF8.self)
        let token = Base64URL.encode(Array(#"{"alg":"none","typ":"at+jwt","kid":"\#(Self.kid)"}"#.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "."
        #expect(throws: TokenError.malformed) { try verify(token) }
        let withSignature = forge(header: #"{"alg":"none","typ":"at+jwt","kid":"\#(Self.kid)"}"#, payload: payload, signature: [1])
        #expect(throws: TokenError.unsupportedAlgorithm("none")) { try verify(withSignature) }
    }

    @Test("HS256 signed with the public key as secret is refused")
    func hmacConfusion() throws {
        let payload = String(decoding: try JSONEncoder().encode(claims), as: UTF8.self)
        let token = forge(header: #"{"alg":"HS256","typ":"at+jwt","kid":"\#(Self.kid)"}"#, payload: payload, signature: Array(repeating: 7, count: 32))
        #expect(throws: TokenError.unsupportedAlgorithm("HS256")) { try verify(token) }
    }

    @Test("an unknown or missing kid is refused")
    func unknownKid() throws {
        let other = try RSAPrivateKey.generate()
        let token = try JWS.sign(claims, type: "at+jwt", kid: other.publicKey.jwk.kid!, key: other)
        #expect(throws: TokenError.unknownKey) { try verify(token) }
        // Our kid on a token signed by another key: the signature does not verify.
        let stolenKid = try JWS.sign(claims, type: "at+jwt", kid: Self.kid, key: other)
        #expect(throws: TokenError.badSignature) { try verify(stolenKid) }
    }

    @Test("an altered payload fails the signature")
    func alteredPayload() throws {
        let parts = try sign(claims).split(separator: ".")
        var altered = claims
        altered.sub = "admin"
        let token = parts[0] + "." + Base64URL.encode(try JSONEncoder().encode(altered)) + "." + parts[2]
        #expect(throws: TokenError.badSignature) { try verify(String(token)) }
    }

    @Test("expiry, not-before, issuer, audience and type are enforced")
    func registeredClaims() throws {
        var expired = claims
        expired.exp = now.epochSeconds - 31
        #expect(throws: TokenError.expired) { try verify(try sign(expired)) }
        var withinLeeway = claims
        withinLeeway.exp = now.epochSeconds - 29
        #expect(try verify(try sign(withinLeeway)) == withinLeeway)
        var early = claims
        early.nbf = now.epochSeconds + 31
        #expect(throws: TokenError.notYetValid) { try verify(try sign(early)) }
        var foreign = claims
        foreign.iss = "https://evil.example"
        #expect(throws: TokenError.wrongIssuer) { try verify(try sign(foreign)) }
        var otherAudience = claims
        otherAudience.aud = .many(["other", "another"])
        #expect(throws: TokenError.wrongAudience) { try verify(try sign(otherAudience)) }
        var listed = claims
        listed.aud = .many(["other", "api"])
        #expect(try verify(try sign(listed)) == listed)
        #expect(throws: TokenError.wrongType) { try verify(try sign(claims, type: "JWT")) }
        #expect(try verify(try sign(claims, type: "application/at+jwt")) == claims)
    }

    @Test("structurally broken tokens are malformed", arguments: ["", "a.b", "a.b.c.d", "..", "not base64!.e30.AA", "e30.e30.AA"])
    func malformed(token: String) {
        #expect(throws: TokenError.self) { try verify(token) }
    }

    @Test("a key ring signs with the active key, publishes retiring keys and drops retired ones")
    func keyRing() throws {
        let active = try RSAPrivateKey.generate()
        let retiring = try RSAPrivateKey.generate()
        let retired = try RSAPrivateKey.generate()
        func record(_ key: RSAPrivateKey, _ state: SigningKeyState, retireAfter: Date? = nil) -> SigningKeyRecord {
            SigningKeyRecord(kid: key.publicKey.jwk.kid!, state: state, createdAt: now, retireAfter: retireAfter, publicJWK: key.publicKey.jwk.jsonString())
        }
        // The retiring key has no PEM any more: it verifies from its stored JWK.
        let ring = try KeyRing(
            records: [record(active, .active), record(retiring, .retiring, retireAfter: now + 60), record(retired, .retired)],
            privateKeys: [active.publicKey.jwk.kid!: active], now: now)
        let published = try JSONDecoder().decode(JWKSet.self, from: ring.jwks().body).keys.compactMap(\.kid)
        #expect(Set(published) == [active.publicKey.jwk.kid!, retiring.publicKey.jwk.kid!])
        let token = try ring.sign(claims, type: "at+jwt")
        #expect(try ring.verify(token, as: TestClaims.self, expecting: expectations) == claims)
        let oldToken = try JWS.sign(claims, type: "at+jwt", kid: retiring.publicKey.jwk.kid!, key: retiring)
        #expect(try ring.verify(oldToken, as: TestClaims.self, expecting: expectations) == claims)
        let retiredToken = try JWS.sign(claims, type: "at+jwt", kid: retired.publicKey.jwk.kid!, key: retired)
        #expect(throws: TokenError.unknownKey) { try ring.verify(retiredToken, as: TestClaims.self, expecting: expectations) }
    }

    @Test("a token verified before is checked again for time, type, issuer and audience, and refused once its key leaves the ring")
    func verifiedTokensAreRecheckedAndForgottenWithTheirKey() throws {
        let key = try RSAPrivateKey.generate()
        let record = SigningKeyRecord(kid: key.publicKey.jwk.kid!, state: .active, createdAt: now, retireAfter: nil,
                                      publicJWK: key.publicKey.jwk.jsonString())
        let ring = try KeyRing(records: [record], privateKeys: [record.kid: key], now: now)
        let token = try ring.sign(claims, type: "at+jwt")
        #expect(try ring.verify(token, as: TestClaims.self, expecting: expectations) == claims)
        // The second presentation comes from the ring's memory of the first: every check of
        // the moment and the endpoint still applies.
        #expect(try ring.verify(token, as: TestClaims.self, expecting: expectations) == claims)
        var later = expectations
        later.now = now + 900 + 31
        #expect(throws: TokenError.expired) { try ring.verify(token, as: TestClaims.self, expecting: later) }
        var elsewhere = expectations
        elsewhere.audiences = ["other"]
        #expect(throws: TokenError.wrongAudience) { try ring.verify(token, as: TestClaims.self, expecting: elsewhere) }
        var idToken = expectations
        idToken.type = "JWT"
        #expect(throws: TokenError.wrongType) { try ring.verify(token, as: TestClaims.self, expecting: idToken) }
        var otherIssuer = expectations
        otherIssuer.issuer = "https://other.example"
        #expect(throws: TokenError.wrongIssuer) { try ring.verify(token, as: TestClaims.self, expecting: otherIssuer) }
        // A one-character change is another token: verified from scratch, and refused, whether
        // it alters the signature or only the unused bits of its last character.
        for tampered in [String(token.dropLast(20)) + (token.dropLast(19).last == "A" ? "B" : "A") + token.suffix(19),
                         String(token.dropLast()) + (token.last == "A" ? "B" : "A")] {
            #expect(throws: TokenError.self) { try ring.verify(tampered, as: TestClaims.self, expecting: expectations) }
        }
        // The key is replaced by another: the remembered token goes with it.
        let next = try RSAPrivateKey.generate()
        let nextRecord = SigningKeyRecord(kid: next.publicKey.jwk.kid!, state: .active, createdAt: now, retireAfter: nil,
                                          publicJWK: next.publicKey.jwk.jsonString())
        try ring.replace(records: [nextRecord], privateKeys: [nextRecord.kid: next], now: now)
        #expect(throws: TokenError.unknownKey) { try ring.verify(token, as: TestClaims.self, expecting: expectations) }
    }
}

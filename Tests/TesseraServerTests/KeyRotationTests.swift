import Foundation
import Logging
import Testing
@testable import Tessera
import TesseraCore
import TesseraCrypto
import TesseraSQLite

@Suite("Key rotation without restart")
struct KeyRotationTests {
    struct Claims: RegisteredClaims, Equatable {
        var iss: String
        var aud: Audience
        var exp: Int
        var nbf: Int?
    }

    @Test("after a rotation the ring signs with the new key, verifies both, and drops the old one after its retire-after")
    func rotation() async throws {
        let server = try await TestServer()
        let now = server.clock.now
        let claims = Claims(iss: server.settings.issuer, aud: .one("x"), exp: now.epochSeconds + 86400)
        let expect = TokenExpectations(type: "JWT", issuer: server.settings.issuer, audiences: ["x"], now: now)
        let oldKid = try #require(server.keys.activeKid)
        let before = try server.keys.sign(claims, type: "JWT")

        let directory = KeyDirectory(path: server.settings.keysDir)
        let generated = try directory.generate()
        try await server.storage.rotateSigningKey(
            to: SigningKeyMaterial(kid: generated.kid, publicJWK: generated.key.publicKey.jwk.jsonString()), retireAfter: now + 900, now: now)
        let refresher = KeyRingRefresher(ring: server.keys, storage: server.storage, directory: directory, logger: testLogger)

        await refresher.refreshIfNeeded(now: now)
        #expect(server.keys.activeKid == generated.kid)
        #expect(server.keys.publishedKids == [oldKid, generated.kid].sorted())
        let after = try server.keys.sign(claims, type: "JWT")
        #expect(header(of: after)["kid"] as? String == generated.kid)
        #expect(try server.keys.verify(before, as: Claims.self, expecting: expect) == claims)
        #expect(try server.keys.verify(after, as: Claims.self, expecting: expect) == claims)

        await refresher.refreshIfNeeded(now: now + 899)
        #expect(server.keys.publishedKids.contains(oldKid))
        await refresher.refreshIfNeeded(now: now + 901)
        #expect(server.keys.publishedKids == [generated.kid])
        #expect(throws: TokenError.unknownKey) { try server.keys.verify(before, as: Claims.self, expecting: expect) }
        #expect(try server.keys.verify(after, as: Claims.self, expecting: expect) == claims)
    }

    @Test("a retiring key stays published for the longest token lifetime, a client's own included")
    func longestLifetime() async throws {
        let server = try await TestServer()
        #expect(try await TesseraRuntime.longestTokenLifetime(server.settings, clients: server.storage) == 900)
        try await server.registerClient("long", grants: [.clientCredentials], scope: "x", accessTokenTTL: 7200)
        #expect(try await TesseraRuntime.longestTokenLifetime(server.settings, clients: server.storage) == 7200)
    }
}

import Foundation
import Logging
import Testing
@testable import Tessera
import TesseraCore
import TesseraCrypto
import TesseraSQLite
import TesseraTestSupport

@Suite("Key rotation without restart")
struct KeyRotationTests {
    struct Claims: RegisteredClaims, Equatable {
        var iss: String
        var aud: Audience
        var exp: Int
        var nbf: Int?
    }

    @Test("a rotated key is published first, signs from its activation on, and the old one is dropped after its retire-after")
    func rotation() async throws {
        let server = try await TestServer()
        let now = server.clock.now
        let claims = Claims(iss: server.settings.issuer, aud: .one("x"), exp: now.epochSeconds + 86400)
        let expect = TokenExpectations(type: "JWT", issuer: server.settings.issuer, audiences: ["x"], now: now)
        let oldKid = try #require(server.keys.activeKid)
        let before = try server.keys.sign(claims, type: "JWT")

        let directory = KeyDirectory(path: server.settings.keysDir)
        let generated = try directory.generate()
        try await server.storage.addNextSigningKey(
            SigningKeyMaterial(kid: generated.kid, publicJWK: generated.key.publicKey.jwk.jsonString()), sealedPrivateKey: nil,
            activateAfter: now + 2, now: now)
        let refresher = KeyRingRefresher(
            ring: server.keys, storage: server.storage, custody: try KeyCustody(server.settings, storage: server.storage), settings: server.settings,
            logger: testLogger)

        await refresher.refreshIfNeeded(now: now)
        #expect(server.keys.activeKid == oldKid, "a next key does not sign yet")
        #expect(server.keys.publishedKids == [oldKid, generated.kid].sorted(), "but it is published")
        #expect(header(of: try server.keys.sign(claims, type: "JWT"))["kid"] as? String == oldKid)
        await refresher.refreshIfNeeded(now: now + 2)
        #expect(server.keys.activeKid == generated.kid)
        #expect(server.keys.publishedKids == [oldKid, generated.kid].sorted())
        let after = try server.keys.sign(claims, type: "JWT")
        #expect(header(of: after)["kid"] as? String == generated.kid)
        #expect(try server.keys.verify(before, as: Claims.self, expecting: expect) == claims)
        #expect(try server.keys.verify(after, as: Claims.self, expecting: expect) == claims)

        await refresher.refreshIfNeeded(now: now + 2 + 899)
        #expect(server.keys.publishedKids.contains(oldKid))
        await refresher.refreshIfNeeded(now: now + 2 + 901)
        #expect(server.keys.publishedKids == [generated.kid])
        #expect(throws: TokenError.unknownKey) { try server.keys.verify(before, as: Claims.self, expecting: expect) }
        #expect(try server.keys.verify(after, as: Claims.self, expecting: expect) == claims)
    }

    @Test("a retiring key stays published for the longest token lifetime, a client's own included")
    func longestLifetime() async throws {
        let server = try await TestServer()
        #expect(try await server.settings.longestTokenLifetime(clients: server.storage) == 900)
        try await server.registerClient("long", grants: [.clientCredentials], scope: "x", accessTokenTTL: 7200)
        #expect(try await server.settings.longestTokenLifetime(clients: server.storage) == 7200)
    }

    static let kek = Data((0..<32).map { UInt8($0) }).base64EncodedString()
    static let otherKEK = Data((0..<32).map { UInt8(255 - $0) }).base64EncodedString()

    @Test("with a key-encryption key the signing key and shared secrets live sealed in the database, and every server gets the same")
    func keysInTheDatabase() async throws {
        let first = try await TestServer { $0.keyEncryptionKey = Self.kek }
        let kid = try #require(first.keys.activeKid)
        let keysDir = first.settings.keysDir
        let pems = ((try? FileManager.default.contentsOfDirectory(atPath: keysDir)) ?? []).filter { $0.hasSuffix(".pem") }
        #expect(pems.isEmpty, "no PEM file is written")
        #expect(try await first.storage.sealedPrivateKeys().keys.sorted() == [kid])
        let second = try await first.restarted()
        #expect(second.keys.activeKid == kid, "another server signs with the same key")
        let secrets = try await [first, second].asyncMap { server in
            try await MailRuntime.codeSecret(server.settings, storage: server.storage).bytes
        }
        #expect(secrets[0] == secrets[1], "one code secret for every server")
        let rotated = try await first.restarted { $0.keyEncryptionKey = "\(Self.otherKEK),\(Self.kek)" }
        #expect(rotated.keys.activeKid == kid, "a key sealed under an older key-encryption key still opens")
        await #expect(throws: StartupError.self) { _ = try await first.restarted { $0.keyEncryptionKey = Self.otherKEK } }
    }

    @Test("a rotation in database custody seals the new key; the refresher promotes it when due")
    func rotationInTheDatabase() async throws {
        let server = try await TestServer { $0.keyEncryptionKey = Self.kek }
        let oldKid = try #require(server.keys.activeKid)
        let now = server.clock.now
        let custody = try KeyCustody(server.settings, storage: server.storage)
        let generated = try custody.generate()
        #expect(generated.file == nil && generated.sealed != nil)
        let kid = generated.key.publicKey.jwk.kid!
        try await server.storage.addNextSigningKey(
            SigningKeyMaterial(kid: kid, publicJWK: generated.key.publicKey.jwk.jsonString()), sealedPrivateKey: generated.sealed,
            activateAfter: now + server.settings.keyActivationDelay, now: now)
        let refresher = KeyRingRefresher(ring: server.keys, storage: server.storage, custody: custody, settings: server.settings, logger: testLogger)
        await refresher.refreshIfNeeded(now: now)
        #expect(server.keys.activeKid == oldKid && server.keys.publishedKids.contains(kid))
        // Two servers promoting at once: exactly one promotes.
        let promoted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask { try await server.storage.promoteNextSigningKey(now: now + 60, retireAfter: now + 960) }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(promoted == 1)
        await refresher.refreshIfNeeded(now: now + 60)
        #expect(server.keys.activeKid == kid)
    }

    @Test("a PostgreSQL database without a key-encryption key is refused, naming the setting")
    func postgresNeedsAKeyEncryptionKey() throws {
        var settings = Settings()
        settings.database = "postgres://tessera@db.example.test/tessera"
        do {
            _ = try KeyCustody(settings, storage: try SQLiteStorage(path: TemporaryDirectory().path("x.sqlite")))
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("key_encryption_key"))
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

import Foundation
import Synchronization
import Testing
import TesseraCore

@Suite("Core values")
struct CoreTests {
    @Test("constant-time comparison agrees with ==", arguments: [
        ("", ""), ("a", "a"), ("a", "b"), ("abc", "abd"), ("abc", "ab"), ("tsr_x", "tsr_x"),
    ])
    func constantTime(a: String, b: String) {
        #expect(constantTimeEquals(Array(a.utf8), Array(b.utf8)) == (a == b))
    }

    @Test("an audience decodes from a string or an array and encodes back the same way")
    func audience() throws {
        let one = try JSONDecoder().decode(Audience.self, from: Data(#""api""#.utf8))
        let many = try JSONDecoder().decode(Audience.self, from: Data(#"["a","b"]"#.utf8))
        #expect(one == .one("api"))
        #expect(many.values == ["a", "b"])
        #expect(String(decoding: try JSONEncoder().encode(one), as: UTF8.self) == #""api""#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Audience.self, from: Data("42".utf8)) }
    }

    /// Hands out the given draws in turn (0xF8 is the 6 bits of `-` followed by zeros).
    final class ScriptedRandom: CryptoPrimitives {
        let draws: Mutex<[[UInt8]]>
        init(_ draws: [[UInt8]]) { self.draws = Mutex(draws) }
        func randomBytes(_ count: Int) -> [UInt8] { draws.withLock { $0.removeFirst() } }
        func sha256(_ bytes: [UInt8]) -> [UInt8] { [] }
        func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] { [] }
    }

    @Test("a random identifier never starts with '-', which a command line would take for an option")
    func identifierIsNotAnOption() {
        let dash = [0xF8] + [UInt8](repeating: 0, count: 15)
        let plain = [UInt8](repeating: 0, count: 16)
        let identifier = RandomIdentifier.make(using: ScriptedRandom([dash, dash, plain]))
        #expect(Base64URL.encode(dash).hasPrefix("-"))
        #expect(identifier == Base64URL.encode(plain))
    }

    @Test("a published document's entity tag depends only on its bytes")
    func etag() {
        let a = PublishedDocument(body: Data("{}".utf8))
        #expect(a.etag == PublishedDocument(body: Data("{}".utf8)).etag)
        #expect(a.etag != PublishedDocument(body: Data("{ }".utf8)).etag)
        #expect(a.etag.hasPrefix("\"") && a.etag.hasSuffix("\""))
    }

    @Test("a retiring key is published until its retire-after time; a retired key never")
    func keyPublication() {
        let now = Date(timeIntervalSince1970: 1000)
        #expect(SigningKeyRecord(kid: "a", state: .active, createdAt: now, publicJWK: "{}").isPublished(at: now))
        let retiring = SigningKeyRecord(kid: "b", state: .retiring, createdAt: now, retireAfter: now + 10, publicJWK: "{}")
        #expect(retiring.isPublished(at: now + 9))
        #expect(!retiring.isPublished(at: now + 10))
        #expect(!SigningKeyRecord(kid: "c", state: .retired, createdAt: now, publicJWK: "{}").isPublished(at: now))
    }
}

@Suite("Scope text scan")
struct ScopeTextTests {
    @Test("a scope string holds a token only as a whole space-delimited word", arguments: [
        ("openid email account", "account", true), ("account", "account", true), ("openid  account ", "account", true),
        ("openid accounts", "account", false), ("openid myaccount", "account", false), ("", "account", false),
        ("email", "email", true), ("openid", "email", false), ("e mail", "email", false),
    ])
    func scan(text: String, token: String, expected: Bool) {
        #expect(Scope.text(text, contains: token) == expected)
        #expect((Scope(parsing: text)?.contains(token) ?? false) == expected, "agrees with the parsed scope")
    }
}

@Suite("Per-address rate limiter")
struct RateLimiterTests {
    @Test("a burst, then one request per 1/rate seconds; an address whose bucket refilled is forgotten")
    func burstRefillAndSweep() {
        let limiter = RateLimiter(rate: 2, burst: 10)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect((0..<10).allSatisfy { _ in limiter.admit("192.0.2.1", now: start) == nil })
        #expect(limiter.admit("192.0.2.1", now: start) == 1, "the 11th waits for a token: Retry-After 1")
        #expect(limiter.admit("192.0.2.1", now: start.addingTimeInterval(0.5)) == nil, "half a second at 2/s brings one")
        #expect(limiter.admit("192.0.2.2", now: start.addingTimeInterval(0.5)) == nil, "another address has its own bucket")
        #expect(limiter.trackedAddresses == 2)
        // After burst / rate = 5 s untouched, a bucket is full again and swept (at most once a second).
        #expect(limiter.admit("192.0.2.3", now: start.addingTimeInterval(6)) == nil)
        #expect(limiter.trackedAddresses == 1)
        #expect(RateLimiter(rate: 0, burst: 10).admit("192.0.2.1", now: start) == nil, "0 switches the limit off")
    }
}

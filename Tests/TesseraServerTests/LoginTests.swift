import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraCrypto
import Synchronization
import TesseraServer
import TesseraSQLite

@Suite("POST /v1/login")
struct LoginTests {
    @Test("returns RFC 9068 access token, ID token and refresh token, with the cookie and no-store")
    func success() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let signUp = try await client.signUp("Bob@Example.com")
            let userID = try #require(signUp.json["user_id"] as? String)
            let response = try await client.login("bob@example.com")
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.json["token_type"] as? String == "Bearer")
            #expect(response.json["expires_in"] as? Int == 900)
            let refresh = try #require(response.json["refresh_token"] as? String)
            #expect(refresh.hasPrefix("tsr_") && refresh.count == 47)
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("tessera_refresh=\(refresh);"))
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/v1"] { #expect(cookie.contains(attribute)) }

            let access = try #require(response.json["access_token"] as? String)
            #expect(header(of: access)["typ"] as? String == "at+jwt")
            #expect(header(of: access)["alg"] as? String == "RS256")
            #expect(header(of: access)["kid"] as? String == server.keys.activeKid)
            let accessClaims = claims(of: access)
            #expect(accessClaims["iss"] as? String == "https://id.example.test")
            #expect(accessClaims["sub"] as? String == userID)
            #expect(accessClaims["aud"] as? String == "https://id.example.test")
            #expect(accessClaims["client_id"] as? String == "tessera")
            #expect(accessClaims["scope"] as? String == "openid email profile account")
            #expect((accessClaims["exp"] as? Int).map { $0 - (accessClaims["iat"] as? Int ?? 0) } == 900)
            #expect(accessClaims["jti"] is String)
            #expect(accessClaims["auth_time"] as? Int == Int(server.clock.now.timeIntervalSince1970))

            let idToken = try #require(response.json["id_token"] as? String)
            let id = claims(of: idToken)
            #expect(id["aud"] as? String == "tessera")
            #expect(id["email"] as? String == "Bob@Example.com")
            #expect(id["email_verified"] as? Bool == false)
            #expect(id["at_hash"] as? String == Base64URL.encode(OpenSSLPrimitives().sha256(Array(access.utf8)).prefix(16)))
        }
    }

    @Test("unknown email and wrong password give the same status and body")
    func noEnumeration() async throws {
        let server = try await TestServer()
        try await server.test { client in
            _ = try await client.signUp("carol@example.com")
            let wrongPassword = try await client.login("carol@example.com", "not her password")
            let unknownEmail = try await client.login("nobody@example.com", "not her password")
            let malformedEmail = try await client.login("not an email", "whatever it is")
            #expect(wrongPassword.status == .unauthorized)
            for other in [unknownEmail, malformedEmail] {
                #expect(other.status == wrongPassword.status)
                #expect(other.data == wrongPassword.data)
            }
            #expect(wrongPassword.errorCode == "invalid_credentials")
        }
    }

    @Test("a disabled user is refused with 403 user_disabled, an unconfirmed one with 403 user_unconfirmed")
    func statuses() async throws {
        let server = try await TestServer()
        try await server.test { client in
            _ = try await client.signUp("dave@example.com")
            _ = try await client.signUp("erin@example.com")
            try await server.storage.setStatus(email: "dave@example.com", "disabled")
            try await server.storage.setStatus(email: "erin@example.com", "unconfirmed")
            let disabled = try await client.login("dave@example.com")
            #expect(disabled.status == .forbidden)
            #expect(disabled.errorCode == "user_disabled")
            let unconfirmed = try await client.login("erin@example.com")
            #expect(unconfirmed.status == .forbidden)
            #expect(unconfirmed.errorCode == "user_unconfirmed")
            // The status is revealed only to someone who knows the password.
            #expect(try await client.login("dave@example.com", "wrong password!").errorCode == "invalid_credentials")
        }
    }

    @Test("after too many failures the account is locked with 429 and Retry-After, even for the right password")
    func accountLockout() async throws {
        let server = try await TestServer { $0.loginMaxFailures = 3; $0.loginFailureWindow = 600 }
        try await server.test { client in
            _ = try await client.signUp("frank@example.com")
            for _ in 0..<3 { #expect(try await client.login("frank@example.com", "wrong password!").status == .unauthorized) }
            let locked = try await client.login("frank@example.com")
            #expect(locked.status == .tooManyRequests)
            #expect(locked.errorCode == "too_many_attempts")
            #expect(locked.headers[.retryAfter] == "600")
            // The same for an address with no account: the lock reveals nothing.
            for _ in 0..<3 { _ = try await client.login("ghost@example.com", "wrong password!") }
            #expect(try await client.login("ghost@example.com", "wrong password!").status == .tooManyRequests)
            server.clock.advance(by: 601)
            #expect(try await client.login("frank@example.com").status == .ok)
        }
    }

    @Test("a success resets the account's failure count")
    func successResets() async throws {
        let server = try await TestServer { $0.loginMaxFailures = 3 }
        try await server.test { client in
            _ = try await client.signUp("gina@example.com")
            for _ in 0..<2 { _ = try await client.login("gina@example.com", "wrong password!") }
            #expect(try await client.login("gina@example.com").status == .ok)
            for _ in 0..<2 { _ = try await client.login("gina@example.com", "wrong password!") }
            #expect(try await client.login("gina@example.com").status == .ok)
        }
    }

    @Test("attempts per client IP beyond the rate are refused with 429")
    func ipRate() async throws {
        let server = try await TestServer { $0.loginIPRate = 2 }
        try await server.test { client in
            _ = try await client.signUp("hank@example.com")
            #expect(try await client.login("hank@example.com").status == .ok)
            #expect(try await client.login("someone@example.com").status == .unauthorized)
            let third = try await client.login("hank@example.com")
            #expect(third.status == .tooManyRequests)
            #expect(third.headers[.retryAfter] == "1")
            server.clock.advance(by: 1)
            #expect(try await client.login("hank@example.com").status == .ok)
        }
    }

    @Test("an unknown client is 400 invalid_client; a scope beyond the client's is 400 invalid_scope")
    func clientAndScope() async throws {
        let server = try await TestServer()
        try await server.test { client in
            _ = try await client.signUp("ivy@example.com")
            let unknown = try await client.login("ivy@example.com", extra: ["client_id": "someone-else"])
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorCode == "invalid_client")
            let escalation = try await client.login("ivy@example.com", extra: ["scope": "openid admin"])
            #expect(escalation.status == .badRequest)
            #expect(escalation.errorCode == "invalid_scope")
            let narrow = try await client.login("ivy@example.com", extra: ["client_id": "tessera", "scope": "email"])
            #expect(narrow.status == .ok)
            #expect(narrow.json["id_token"] == nil)
            #expect(narrow.json["scope"] as? String == "email account", "first-party tokens always carry account")
        }
    }

    @Test("a login at a new bcrypt cost rehashes the password")
    func rehash() async throws {
        let server = try await TestServer()
        try await server.test { client in _ = try await client.signUp("jack@example.com") }
        let upgraded = try await server.restarted { $0.bcryptCost = 11 }
        let first = try await upgraded.test { client in try await client.login("jack@example.com").status }
        #expect(first == .ok)
        var hash: String?
        for _ in 0..<300 {  // a bounded poll (30 s): it fails only when the rehash never lands
            hash = try await upgraded.storage.user(email: "jack@example.com")?.passwordHash
            if hash?.hasPrefix("tessera-v2:$2b$11$") == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(hash?.hasPrefix("tessera-v2:$2b$11$") == true)
        let second = try await upgraded.test { client in try await client.login("jack@example.com").status }
        #expect(second == .ok)
    }

    @Test("bad login bodies are 400 invalid_request", arguments: [
        "{\"email\":\"a@example.com\"}", "{\"email\":\"a@example.com\",\"password\":\"x\",\"remember\":true}", "not json", "{\"email\":1,\"password\":\"x\"}",
    ])
    func badBodies(body: String) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.post("/v1/login", raw: body)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_request")
        }
    }
}

@Suite("Bounded bcrypt pool")
struct BcryptPoolTests {
    @Test("beyond its capacity and waiting room the pool refuses work with busy instead of queueing")
    func bounded() async throws {
        let hasher = BcryptPasswordHasher(capacity: 2, waitingRoom: 2)
        let hash = try await hasher.hash("correct horse battery", cost: 10, priority: .other)
        let outcomes = await withTaskGroup(of: Bool?.self) { group in
            for _ in 0..<12 {
                group.addTask { try? await hasher.verify("correct horse battery", against: hash) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.contains(nil))
        #expect(outcomes.filter { $0 == true }.count >= 2)
        #expect(!hasher.isSaturated, "every admission was given back")
        #expect(try await hasher.verify("correct horse battery", against: hash))
    }

    @Test("a caller that finds no slot waits, first come first served, and gets the slot the next hash frees; one beyond the waiting room is refused at once")
    func waitingRoom() async throws {
        // The second caller must arrive while the first still hashes. On a loaded machine the
        // first can finish before the second is even scheduled; then the scenario did not
        // happen (nothing is asserted of it) and runs again, at most 5 times.
        for _ in 1...5 {
            let hasher = BcryptPasswordHasher(capacity: 1, waitingRoom: 1, maxWait: .seconds(60))
            let hash = try await hasher.hash("x", cost: 12, priority: .other)
            let first = Task { try await hasher.verify("x", against: hash) }
            try #require(await Self.eventually { hasher.load.running > 0 }, "the first hash starts")
            let second = Task { try await hasher.verify("x", against: hash) }
            guard await Self.eventually(within: .seconds(5), { hasher.load.waiting > 0 }) else {
                _ = try await (first.value, second.value)
                continue
            }
            await #expect(throws: AccountError.busy(retryAfter: 1)) { _ = try await hasher.verify("x", against: hash) }
            let answers = (try await first.value, try await second.value)
            #expect(answers == (true, true), "the waiter was admitted when the first hash finished")
            #expect(hasher.load.running == 0 && hasher.load.waiting == 0)
            return
        }
        Issue.record("in 5 tries the second caller never arrived while the first was hashing")
    }

    @Test("a waiter that gets no slot within maxWait is refused with busy, and leaves the room")
    func waiterGivesUp() async throws {
        let hasher = BcryptPasswordHasher(capacity: 1, waitingRoom: 1, maxWait: .milliseconds(1))
        let hash = try await hasher.hash("x", cost: 14, priority: .other)
        let slow = Task { try await hasher.verify("x", against: hash) }
        try #require(await Self.eventually { hasher.load.running > 0 }, "the slow hash starts")
        await #expect(throws: AccountError.busy(retryAfter: 1)) { _ = try await hasher.verify("x", against: hash) }
        #expect(hasher.load.waiting == 0)
        #expect(try await slow.value)
    }

    /// Whether `condition` holds within `limit`, polled every millisecond (sleeping, so the
    /// poll never holds a thread of the concurrency pool the awaited work needs).
    static func eventually(within limit: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return true
    }

    @Test("an unmatchable hash has the requested cost and matches nothing")
    func unmatchable() async throws {
        let hasher = BcryptPasswordHasher()
        let dummy = hasher.unmatchableHash(cost: 10)
        #expect(hasher.cost(of: dummy) == 10)
        #expect(try await hasher.verify("", against: dummy) == false)
        #expect(try await hasher.verify("correct horse battery", against: dummy) == false)
    }
}

/// Counts bcrypt verifications, delegating to the real hasher; `saturated` makes its pool
/// report full, so that everything that would hash must be turned away.
final class CountingHasher: PasswordHasher {
    let inner = BcryptPasswordHasher()
    let verifications = Mutex(0)
    let saturated: Bool

    init(saturated: Bool = false) {
        self.saturated = saturated
    }

    func hash(_ input: String, cost: Int, priority: HashingPriority) async throws(AccountError) -> String {
        try await inner.hash(input, cost: cost, priority: priority)
    }
    func verify(_ input: String, against hash: String) async throws(AccountError) -> Bool {
        verifications.withLock { $0 += 1 }
        return try await inner.verify(input, against: hash)
    }
    func cost(of hash: String) -> Int? { inner.cost(of: hash) }
    func unmatchableHash(cost: Int) -> String { inner.unmatchableHash(cost: cost) }
    var isSaturated: Bool { saturated || inner.isSaturated }
}

@Suite("Login storm shedding")
struct LoginSheddingTests {
    @Test("while the password pool is full, /v1/login answers 503 with Retry-After before reading the body, and hashes nothing")
    func shedsBeforeParsing() async throws {
        let hasher = CountingHasher(saturated: true)
        let server = try await TestServer(hasher: hasher)
        try await server.test { client in
            for response in [try await client.login("tim@example.com"), try await client.post("/v1/login", raw: "{not json")] {
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                #expect(response.errorCode == "temporarily_unavailable")
            }
        }
        #expect(hasher.verifications.withLock { $0 } == 0)
    }
}

@Suite("Login timing parity")
struct LoginTimingTests {
    @Test("an unknown email costs one full bcrypt verification, like a wrong password; a malformed one, which names no account, costs none")
    func unknownEmailCostsABcrypt() async throws {
        let hasher = CountingHasher()
        let server = try await TestServer(hasher: hasher)
        try await server.test { client in
            _ = try await client.signUp("tim@example.com")
            for (email, hashes) in [("tim@example.com", 1), ("nobody@example.com", 1), ("not an email", 0)] {
                let before = hasher.verifications.withLock { $0 }
                let response = try await client.login(email, "wrong password!")
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "invalid_credentials")
                #expect(hasher.verifications.withLock { $0 } == before + hashes, "\(email)")
            }
        }
        let dummy = hasher.unmatchableHash(cost: 10)
        #expect(hasher.cost(of: dummy) == server.settings.bcryptCost)
    }
}

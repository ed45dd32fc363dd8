import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TesseraCore
import TesseraCrypto
@testable import TesseraSQLite

/// Email verification and password recovery (contract §8.2, §8.3) through the HTTP API. The
/// courier does not run here: the codes are read from the queued messages, which keep them
/// until sent.
@Suite("Account lifecycle")
struct LifecycleTests {
    /// The code of the newest queued message of `template` to `email`.
    static func code(_ server: TestServer, to email: String, _ template: MailTemplateName) async throws -> String {
        let mail = try await server.storage.listMail(status: .queued, recipient: email, limit: 100).first { $0.request.template == template }
        return try #require(mail?.request.variables["code"])
    }

    static func queued(_ server: TestServer) async throws -> Int {
        try await server.storage.listMail(status: nil, recipient: nil, limit: 1000).count
    }

    @Test("sign-up queues a verification code in its transaction; the code verifies the address, spaces ignored, once")
    func verifySignUpAddress() async throws {
        let server = try await TestServer()
        try await server.test { client in
            #expect(try await client.signUp("ann@example.com").status == .created)
            let code = try await Self.code(server, to: "ann@example.com", .verificationCode)
            #expect(code.count == 8 && code.allSatisfy(\.isNumber))
            let spaced = String(code.prefix(4)) + " " + String(code.dropFirst(4))
            let verified = try await client.post("/v1/email/verify", json: ["email": "ANN@example.com", "code": spaced])
            #expect(verified.status == .ok)
            #expect(verified.json["email_verified"] as? Bool == true)
            let again = try await client.post("/v1/email/verify", json: ["email": "ann@example.com", "code": code])
            #expect(again.status == .badRequest && again.errorCode == "invalid_code")
            let user = try #require(try await server.storage.user(email: "ann@example.com"))
            #expect(user.emailVerified)
        }
    }

    @Test("require_email_verification: sign-up is unconfirmed, login is 403 user_unconfirmed until the code is used")
    func requireVerification() async throws {
        let server = try await TestServer { $0.requireEmailVerification = true }
        try await server.test { client in
            let signUp = try await client.signUp("bo@example.com")
            #expect(signUp.json["status"] as? String == "unconfirmed")
            #expect(try await client.login("bo@example.com").errorCode == "user_unconfirmed")
            let code = try await Self.code(server, to: "bo@example.com", .verificationCode)
            #expect(try await client.post("/v1/email/verify", json: ["email": "bo@example.com", "code": code]).status == .ok)
            #expect(try await client.login("bo@example.com").status == .ok)
        }
    }

    @Test("two concurrent submissions of one code: exactly one succeeds (20 rounds of 8)")
    func codeSpentOnce() async throws {
        let server = try await TestServer { $0.codeIPRate = 0; $0.signUpIPRate = 0 }
        try await server.test { client in
            for round in 0..<20 {
                let email = "race\(round)@example.com"
                _ = try await client.signUp(email)
                let code = try await Self.code(server, to: email, .verificationCode)
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await client.post("/v1/email/verify", json: ["email": email, "code": code]).status.code }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == 200 }.count == 1, "round \(round): \(statuses)")
                #expect(statuses.filter { $0 == 400 }.count == 7)
            }
        }
    }

    @Test("wrong tries count against the code on every endpoint; after code_max_attempts even the right digits fail")
    func attemptLimit() async throws {
        let server = try await TestServer { $0.codeIPRate = 0; $0.codeMaxAttempts = 3 }
        try await server.test { client in
            _ = try await client.signUp("cy@example.com")
            _ = try await client.post("/v1/password/forgot", json: ["email": "cy@example.com"])
            let code = try await Self.code(server, to: "cy@example.com", .recoveryCode)
            let wrong = code == "00000000" ? "11111111" : "00000000"
            for _ in 0..<3 {
                let answer = try await client.post("/v1/password/reset", json: ["email": "cy@example.com", "code": wrong, "password": "a fine new passphrase"])
                #expect(answer.errorCode == "invalid_code")
            }
            let late = try await client.post("/v1/password/reset", json: ["email": "cy@example.com", "code": code, "password": "a fine new passphrase"])
            #expect(late.status == .badRequest && late.errorCode == "invalid_code")
            #expect(try await client.login("cy@example.com").status == .ok, "the password did not change")
        }
    }

    @Test("an expired code, a voided one and one never issued are the same invalid_code")
    func expiryAndVoiding() async throws {
        let server = try await TestServer { $0.codeIPRate = 0; $0.codeResendInterval = 0; $0.recoveryCodeTTL = 5 }
        try await server.test { client in
            _ = try await client.signUp("di@example.com")
            _ = try await client.post("/v1/password/forgot", json: ["email": "di@example.com"])
            let first = try await Self.code(server, to: "di@example.com", .recoveryCode)
            _ = try await client.post("/v1/password/forgot", json: ["email": "di@example.com"])
            let second = try await Self.code(server, to: "di@example.com", .recoveryCode)
            let body = { (code: String) in ["email": "di@example.com", "code": code, "password": "a fine new passphrase"] }
            let voided = try await client.post("/v1/password/reset", json: body(first))
            // The older message went out of the queue with its code.
            let older = try await server.storage.listMail(status: .expired, recipient: "di@example.com", limit: 10)
            #expect(older.count == 1 && older[0].request.variables["code"] == nil)
            server.clock.advance(by: 6)
            let expired = try await client.post("/v1/password/reset", json: body(second))
            let unknown = try await client.post("/v1/password/reset", json: ["email": "nobody@example.com", "code": second, "password": "a fine new passphrase"])
            for answer in [voided, expired, unknown] {
                #expect(answer.status == .badRequest)
                #expect(answer.data == voided.data)
            }
        }
    }

    @Test("reset: a weak password leaves the code unspent; then every token dies, the address is verified, a notice is queued")
    func reset() async throws {
        let server = try await TestServer { $0.codeIPRate = 0 }
        try await server.test { client in
            _ = try await client.signUp("ed@example.com")
            let login = try await client.login("ed@example.com")
            let access = try #require(login.json["access_token"] as? String)
            let refresh = try #require(login.json["refresh_token"] as? String)
            _ = try await client.post("/v1/password/forgot", json: ["email": "ED@EXAMPLE.COM"])
            let code = try await Self.code(server, to: "ed@example.com", .recoveryCode)
            let weak = try await client.post("/v1/password/reset", json: ["email": "ed@example.com", "code": code, "password": "short"])
            #expect(weak.errorCode == "weak_password")
            server.clock.advance(by: 1)
            let done = try await client.post("/v1/password/reset", json: ["email": "ed@example.com", "code": code, "password": "a fine new passphrase"])
            #expect(done.status == .ok)
            #expect(Set(done.json.keys) == ["user_id"], "no tokens: no automatic sign-in")
            #expect(try await client.me(access).status == .unauthorized)
            #expect(try await client.refresh(refresh).status == .unauthorized)
            #expect(try await client.login("ed@example.com").status == .unauthorized)
            #expect(try await client.login("ed@example.com", "a fine new passphrase").status == .ok)
            let user = try #require(try await server.storage.user(email: "ed@example.com"))
            #expect(user.emailVerified)
            let notices = try await server.storage.listMail(status: .queued, recipient: "ed@example.com", limit: 10).filter { $0.request.template == .passwordChanged }
            #expect(notices.count == 1)
        }
    }

    @Test("forgot mails only the stored address; answers are identical for unknown, disabled, throttled and real accounts")
    func uniformForgot() async throws {
        let server = try await TestServer { $0.codeIPRate = 0 }
        try await server.test { client in
            _ = try await client.signUp("Fay@Example.com")
            _ = try await client.signUp("gus@example.com")
            try await server.storage.setStatus(email: "gus@example.com", "disabled")
            let before = try await Self.queued(server)
            var answers: [TestResponse] = []
            for email in ["FAY@example.com", "fay@example.com", "nobody@example.com", "gus@example.com"] {
                answers.append(try await client.post("/v1/password/forgot", json: ["email": email]))
            }
            for answer in answers {
                #expect(answer.status == .accepted)
                #expect(answer.data == Data("{}".utf8))
                #expect(answer.headers[.cacheControl] == "no-store")
            }
            // One code, for the first request only (the second is within the resend interval),
            // to the address as stored.
            #expect(try await Self.queued(server) == before + 1)
            let sent = try await server.storage.listMail(status: .queued, recipient: "fay@example.com", limit: 10).filter { $0.request.template == .recoveryCode }
            #expect(sent.count == 1 && sent[0].request.recipient == "Fay@Example.com")
        }
    }

    @Test("bad input: a list for an address, unknown fields, CR/LF, look-alike Unicode; nothing queued")
    func badInput() async throws {
        let server = try await TestServer { $0.codeIPRate = 0 }
        try await server.test { client in
            _ = try await client.signUp("mike@example.com")
            let before = try await Self.queued(server)
            let list = try await client.post("/v1/password/forgot", raw: #"{"email":["mike@example.com","evil@example.com"]}"#)
            #expect(list.errorCode == "invalid_request")
            let extra = try await client.post("/v1/password/forgot", raw: #"{"email":"mike@example.com","cc":"evil@example.com"}"#)
            #expect(extra.errorCode == "invalid_request")
            let twice = try await client.post("/v1/password/forgot", raw: #"{"email":"evil@example.com","email":"mike@example.com"}"#)
            #expect(twice.errorCode == "invalid_request")
            let injected = try await client.post("/v1/password/forgot", json: ["email": "mike@example.com\r\nBcc: evil@example.com"])
            #expect(injected.errorCode == "invalid_email")
            let lookAlike = try await client.post("/v1/password/forgot", json: ["email": "m\u{131}ke@example.com"])
            #expect(lookAlike.errorCode == "invalid_email")
            #expect(try await Self.queued(server) == before)
        }
    }

    @Test("code_ip_rate: past the burst, 429 too_many_requests with Retry-After, on every code endpoint alike")
    func ipRate() async throws {
        let server = try await TestServer { $0.codeIPRate = 0.1 }
        try await server.test { client in
            _ = try await client.signUp("ivy@example.com")
            let token = try #require(try await client.login("ivy@example.com").json["access_token"] as? String)
            var last: TestResponse?
            for _ in 0..<Int(LifecycleService.ipBurst) + 1 {
                last = try await client.post("/v1/password/forgot", json: ["email": "someone@example.com"])
            }
            #expect(last?.status == .tooManyRequests)
            #expect(last?.errorCode == "too_many_requests")
            #expect(last?.headers[.retryAfter] != nil)
            // The same bucket: adding an address from that IP is refused too.
            let add = try await EmailAddressTests.call(client, .post, "/v1/me/emails", token, ["email": "ivy.work@example.com"])
            #expect(add.status == .tooManyRequests)
        }
    }

    @Test("resend limits: at most code_max_sends_per_hour codes per account and purpose, answered alike")
    func resendLimits() async throws {
        let server = try await TestServer { $0.codeIPRate = 0; $0.codeResendInterval = 0; $0.codeMaxSendsPerHour = 2 }
        try await server.test { client in
            _ = try await client.signUp("hal@example.com")
            for _ in 0..<4 {
                #expect(try await client.post("/v1/password/forgot", json: ["email": "hal@example.com"]).status == .accepted)
            }
            let codes = try await server.storage.listMail(status: nil, recipient: "hal@example.com", limit: 10).filter { $0.request.template == .recoveryCode }
            #expect(codes.count == 2)
            server.clock.advance(by: 3601)
            _ = try await client.post("/v1/password/forgot", json: ["email": "hal@example.com"])
            #expect(try await server.storage.listMail(status: nil, recipient: "hal@example.com", limit: 10).filter { $0.request.template == .recoveryCode }.count == 3)
        }
    }

    @Test("the stored hash is keyed: it is not the SHA-256 of the digits, and binds the user, purpose and address")
    func keyedHash() {
        let crypto = OpenSSLPrimitives()
        let secret = CodeSecret.generate(using: crypto)
        let code = OneTimeCode(presented: "1234 5678")!
        let hash = code.hash(secret: secret, userID: "u", purpose: .recover, emailKey: "a@x.io", using: crypto)
        #expect(hash != crypto.sha256(Array("12345678".utf8)))
        #expect(hash != code.hash(secret: secret, userID: "v", purpose: .recover, emailKey: "a@x.io", using: crypto))
        #expect(hash != code.hash(secret: secret, userID: "u", purpose: .verifyEmail, emailKey: "a@x.io", using: crypto))
        #expect(hash != code.hash(secret: CodeSecret.generate(using: crypto), userID: "u", purpose: .recover, emailKey: "a@x.io", using: crypto))
        #expect(OneTimeCode(presented: "12345") == nil && OneTimeCode(presented: "12345678901") == nil && OneTimeCode(presented: "1234567a") == nil)
        let digits = (0..<2000).map { _ in OneTimeCode.generate(length: 10, using: crypto).digits }.joined()
        let counts = Dictionary(grouping: digits, by: { $0 }).mapValues(\.count)
        #expect(counts.count == 10 && counts.values.allSatisfy { $0 > 1700 && $0 < 2300 }, "\(counts)")
    }
}

@Suite("Password change")
struct PasswordChangeTests {
    func change(_ client: some TestClientProtocol, _ access: String, current: String, new: String) async throws -> TestResponse {
        let body = try JSONSerialization.data(withJSONObject: ["current_password": current, "password": new])
        return try await client.execute(
            uri: "/v1/me/password", method: .post,
            headers: [.authorization: "Bearer \(access)", .contentType: "application/json"], body: ByteBuffer(bytes: body))
    }

    @Test("the current password is required; success gives a new token set and ends every other session; a notice is queued")
    func changes() async throws {
        let server = try await TestServer()
        try await server.test { client in
            _ = try await client.signUp("kim@example.com")
            let other = try await client.login("kim@example.com")
            let mine = try await client.login("kim@example.com")
            let access = try #require(mine.json["access_token"] as? String)
            let wrong = try await change(client, access, current: "not my password", new: "a fine new passphrase")
            #expect(wrong.status == .unauthorized && wrong.errorCode == "invalid_credentials")
            let weak = try await change(client, access, current: "correct horse battery", new: "short")
            #expect(weak.errorCode == "weak_password")
            let done = try await change(client, access, current: "correct horse battery", new: "a fine new passphrase")
            #expect(done.status == .ok)
            let fresh = try #require(done.json["access_token"] as? String)
            let freshRefresh = try #require(done.json["refresh_token"] as? String)
            #expect(done.headers[.setCookie]?.hasPrefix("tessera_refresh=\(freshRefresh)") == true)
            #expect(try await client.me(fresh).status == .ok, "the new set works")
            #expect(try await client.refresh(freshRefresh).status == .ok)
            #expect(try await client.me(access).status == .unauthorized, "the token that asked is earlier, so refused")
            #expect(try await client.me(try #require(other.json["access_token"] as? String)).status == .unauthorized)
            #expect(try await client.refresh(try #require(other.json["refresh_token"] as? String)).status == .unauthorized)
            #expect(try await client.refresh(try #require(mine.json["refresh_token"] as? String)).status == .unauthorized)
            #expect(try await client.login("kim@example.com", "a fine new passphrase").status == .ok)
            let notices = try await server.storage.listMail(status: .queued, recipient: "kim@example.com", limit: 10)
                .filter { $0.request.template == .passwordChanged }
            #expect(notices.count == 1)
        }
    }

    @Test("wrong current passwords count toward the lock-out like failed logins: 429 too_many_attempts")
    func lockOut() async throws {
        let server = try await TestServer { $0.loginMaxFailures = 3 }
        try await server.test { client in
            _ = try await client.signUp("lee@example.com")
            let access = try #require(try await client.login("lee@example.com").json["access_token"] as? String)
            for _ in 0..<3 {
                #expect(try await change(client, access, current: "wrong guess here", new: "a fine new passphrase").status == .unauthorized)
            }
            let locked = try await change(client, access, current: "correct horse battery", new: "a fine new passphrase")
            #expect(locked.status == .tooManyRequests && locked.errorCode == "too_many_attempts")
            #expect(try await client.login("lee@example.com").status == .tooManyRequests, "the same account lock-out")
        }
    }
}

@Suite("Self-service deletion")
struct DeletionTests {
    func delete(_ client: some TestClientProtocol, _ access: String, password: String) async throws -> TestResponse {
        let body = try JSONSerialization.data(withJSONObject: ["current_password": password])
        return try await client.execute(
            uri: "/v1/me/deletion", method: .post,
            headers: [.authorization: "Bearer \(access)", .contentType: "application/json"], body: ByteBuffer(bytes: body))
    }

    @Test("deletion needs the password; it erases the account, refuses every token, frees the address and keeps the id from reuse")
    func erases() async throws {
        let server = try await TestServer { $0.codeIPRate = 0 }
        try await server.test { client in
            let signUp = try await client.signUp("max@example.com", attributes: ["name": "Max Mustermann"])
            let id = try #require(signUp.json["user_id"] as? String)
            _ = try await client.post("/v1/password/forgot", json: ["email": "max@example.com"])
            let tokens = try await client.login("max@example.com")
            let access = try #require(tokens.json["access_token"] as? String)
            #expect(try await delete(client, access, password: "wrong password here").status == .unauthorized)
            let done = try await delete(client, access, password: "correct horse battery")
            #expect(done.status == .noContent)
            #expect(try await client.me(access).status == .unauthorized)
            #expect(try await client.refresh(try #require(tokens.json["refresh_token"] as? String)).status == .unauthorized)
            #expect(try await client.login("max@example.com").status == .unauthorized)
            // Nothing personal is left but the farewell, which is not tied to the id.
            for table in ["users", "one_time_codes", "refresh_token_families"] { #expect(try server.storage.rowCount(table) == 0, "\(table)") }
            let mail = try await server.storage.listMail(status: nil, recipient: nil, limit: 10)
            #expect(mail.map(\.request.template) == [.accountDeleted] && mail[0].request.userID == nil)
            // The address is free; the id is not.
            let again = try await client.signUp("max@example.com")
            #expect(again.status == .created && again.json["user_id"] as? String != id)
            let reuse = User(id: id, email: "other@example.com", emailVerified: false, passwordHash: nil, status: .active, attributes: [:],
                             createdAt: Date(), updatedAt: Date())
            await #expect(throws: StorageError.alreadyExists) {
                try await server.storage.createUser(reuse, postSignUpHooks: [], verification: nil, now: Date())
            }
        }
    }
}

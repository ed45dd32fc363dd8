import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TesseraCore
@testable import TesseraSQLite

/// Several addresses, one primary (contract §8.3), and the invariants under concurrency.
@Suite("Email addresses")
struct EmailAddressTests {
    static let password = "correct horse battery"

    /// A signed-up, logged-in user; returns the access token.
    static func account(_ client: some TestClientProtocol, _ email: String) async throws -> String {
        _ = try await client.signUp(email)
        return try #require(try await client.login(email).json["access_token"] as? String)
    }

    static func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String, _ body: [String: Any]? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: buffer)
    }

    /// Adds `email` to the account and verifies it with the code from its queued message.
    static func addVerified(_ server: TestServer, _ client: some TestClientProtocol, _ token: String, _ email: String) async throws {
        #expect(try await call(client, .post, "/v1/me/emails", token, ["email": email]).status == .accepted)
        let code = try await LifecycleTests.code(server, to: email, .addEmailCode)
        #expect(try await call(client, .post, "/v1/me/emails/verify", token, ["email": email, "code": code]).status == .ok)
    }

    static func emails(_ client: some TestClientProtocol, _ token: String) async throws -> [[String: Any]] {
        let response = try await call(client, .get, "/v1/me/emails", token)
        return (try JSONSerialization.jsonObject(with: response.data)) as? [[String: Any]] ?? []
    }

    static func settings(_ settings: inout Settings) {
        settings.codeIPRate = 0
        settings.signUpIPRate = 0
        settings.loginIPRate = 0
        // The resend limits count per account and purpose: these tests add many addresses quickly.
        settings.codeResendInterval = 0
        settings.codeMaxSendsPerHour = 100
    }

    @Test("add, verify, sign in and recover with the added address; notices go to the primary and the added address")
    func addAndUse() async throws {
        let server = try await TestServer(configure: Self.settings)
        try await server.test { client in
            let token = try await Self.account(client, "ann@example.com")
            let before = try await client.me(token).headers[.eTag]
            let added = try await Self.call(client, .post, "/v1/me/emails", token, ["email": "Ann.Work@Example.com"])
            #expect(added.status == .accepted)
            let afterAdding = try await client.me(token).headers[.eTag]
            #expect(afterAdding != before, "the addresses are part of the profile and its ETag")
            #expect(added.json["email"] as? String == "Ann.Work@Example.com" && added.json["verified"] as? Bool == false)
            #expect(try await client.login("ann.work@example.com").status == .unauthorized, "an unverified address does not sign in")
            let code = try await LifecycleTests.code(server, to: "ann.work@example.com", .addEmailCode)
            let verified = try await Self.call(client, .post, "/v1/me/emails/verify", token, ["email": "ann.work@example.com", "code": code])
            #expect(verified.status == .ok && verified.json["verified"] as? Bool == true)
            #expect(try await client.me(token).headers[.eTag] != afterAdding)
            let listed = try await Self.emails(client, token)
            #expect(listed.map { $0["email"] as? String } == ["ann@example.com", "Ann.Work@Example.com"])
            #expect(listed.map { $0["primary"] as? Bool } == [true, false] && listed[1]["verified"] as? Bool == true)
            #expect(try await client.me(token).json["emails"] as? [[String: Any]] != nil)
            let notices = try await server.storage.listMail(status: .queued, recipient: "ann@example.com", limit: 10).filter { $0.request.template == .emailAdded }
            #expect(notices.count == 1)
            #expect(try await client.login("ANN.WORK@example.com").status == .ok)
            _ = try await client.post("/v1/password/forgot", json: ["email": "ann.work@example.com"])
            let recovery = try await server.storage.listMail(status: .queued, recipient: "ann.work@example.com", limit: 10).filter { $0.request.template == .recoveryCode }
            #expect(recovery.count == 1 && recovery[0].request.recipient == "Ann.Work@Example.com", "to the address as stored")
        }
    }

    @Test("409 email_taken for another account's primary or verified address and for one's own; an unverified one reserves nothing")
    func taken() async throws {
        let server = try await TestServer(configure: Self.settings)
        try await server.test { client in
            let ann = try await Self.account(client, "ann@example.com")
            let bob = try await Self.account(client, "bob@example.com")
            try await Self.addVerified(server, client, bob, "bob.work@example.com")
            for email in ["bob@example.com", "BOB.WORK@example.com", "ann@example.com"] {
                let answer = try await Self.call(client, .post, "/v1/me/emails", ann, ["email": email])
                #expect(answer.status == .conflict && answer.errorCode == "email_taken", "\(email)")
            }
            #expect(try await client.signUp("bob.work@example.com").status == .conflict, "a verified address cannot sign up again")
            // Ann adds an address nobody has verified; Cy may still sign up with it, and then it is Cy's.
            #expect(try await Self.call(client, .post, "/v1/me/emails", ann, ["email": "cy@example.com"]).status == .accepted)
            let code = try await LifecycleTests.code(server, to: "cy@example.com", .addEmailCode)
            #expect(try await client.signUp("cy@example.com").status == .created)
            let late = try await Self.call(client, .post, "/v1/me/emails/verify", ann, ["email": "cy@example.com", "code": code])
            #expect(late.status == .conflict && late.errorCode == "email_taken")
            #expect(try await Self.emails(client, ann).first { $0["email"] as? String == "cy@example.com" }?["verified"] as? Bool == false)
        }
    }

    @Test("two accounts verify one address at once: exactly one wins, the other is 409 (20 rounds)")
    func raceForOneAddress() async throws {
        let server = try await TestServer(configure: Self.settings)
        try await server.test { client in
            for round in 0..<20 {
                // Fresh accounts each round: an account holds at most 10 addresses.
                let first = try await Self.account(client, "first\(round)@example.com")
                let second = try await Self.account(client, "second\(round)@example.com")
                let contested = "shared\(round)@example.com"
                var codes: [String] = []
                for token in [first, second] {
                    #expect(try await Self.call(client, .post, "/v1/me/emails", token, ["email": contested]).status == .accepted)
                    let mail = try await server.storage.listMail(status: .queued, recipient: contested, limit: 10).first { $0.request.template == .addEmailCode }
                    codes.append(try #require(mail?.request.variables["code"]))
                }
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for (token, code) in zip([first, second], codes) {
                        group.addTask { try await Self.call(client, .post, "/v1/me/emails/verify", token, ["email": contested, "code": code]).status.code }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.sorted() == [200, 409], "round \(round): \(statuses)")
                let owners = try server.storage.rowCount("user_emails WHERE email_key = '\(contested)' AND verified = 1")
                #expect(owners == 1)
            }
        }
    }

    @Test("two requests make different addresses primary at once: one primary at the end, no address lost (10 rounds)")
    func raceForPrimary() async throws {
        let server = try await TestServer(configure: Self.settings)
        try await server.test { client in
            let token = try await Self.account(client, "dee@example.com")
            _ = try await client.post("/v1/email/verify", json: [
                "email": "dee@example.com", "code": try await LifecycleTests.code(server, to: "dee@example.com", .verificationCode),
            ])
            try await Self.addVerified(server, client, token, "dee.a@example.com")
            try await Self.addVerified(server, client, token, "dee.b@example.com")
            let userID = try #require(try await server.storage.user(email: "dee@example.com")).id
            for round in 0..<10 {
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for email in ["dee.a@example.com", "dee.b@example.com"] {
                        group.addTask {
                            try await Self.call(client, .post, "/v1/me/emails/primary", token, ["email": email, "current_password": Self.password]).status.code
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses == [200, 200], "round \(round)")
                let all = try await server.storage.emails(userID: userID)
                #expect(all.filter(\.primary).count == 1 && all.count == 3 && all.allSatisfy(\.verified), "round \(round): \(all)")
                #expect(Set(all.map { $0.email.lowercased() }) == ["dee@example.com", "dee.a@example.com", "dee.b@example.com"])
            }
        }
    }

    @Test("primary: password needed, only a verified address of the account; the profile's ETag moves; the old primary gets a notice")
    func makePrimary() async throws {
        let server = try await TestServer(configure: Self.settings)
        try await server.test { client in
            let token = try await Self.account(client, "eve@example.com")
            let before = try await client.me(token).headers[.eTag]
            #expect(try await Self.call(client, .post, "/v1/me/emails", token, ["email": "eve.new@example.com"]).status == .accepted)
            let body = { (email: String, password: String) in ["email": email, "current_password": password] }
            #expect(try await Self.call(client, .post, "/v1/me/emails/primary", token, body("eve.new@example.com", Self.password)).errorCode == "email_unverified")
            #expect(try await Self.call(client, .post, "/v1/me/emails/primary", token, body("nobody@example.com", Self.password)).status == .notFound)
            let code = try await LifecycleTests.code(server, to: "eve.new@example.com", .addEmailCode)
            _ = try await Self.call(client, .post, "/v1/me/emails/verify", token, ["email": "eve.new@example.com", "code": code])
            #expect(try await Self.call(client, .post, "/v1/me/emails/primary", token, body("eve.new@example.com", "wrong password")).status == .unauthorized)
            let switched = try await Self.call(client, .post, "/v1/me/emails/primary", token, body("eve.new@example.com", Self.password))
            #expect(switched.status == .ok && switched.json["email"] as? String == "eve.new@example.com")
            #expect(switched.json["email_verified"] as? Bool == true)
            #expect(switched.headers[.eTag] != nil && switched.headers[.eTag] != before)
            let notices = try await server.storage.listMail(status: .queued, recipient: "eve@example.com", limit: 10).filter { $0.request.template == .emailChanged }
            #expect(notices.count == 1 && notices[0].request.variables["email"] == "eve.new@example.com")
            // The old, unverified primary stays as an unverified address and no longer signs in.
            #expect(try await Self.emails(client, token).map { $0["verified"] as? Bool } == [true, false])
            #expect(try await client.login("eve@example.com").status == .unauthorized)
        }
    }

    @Test("remove: not the primary (409), not a stranger's address (404); the removed address gets a notice and no longer signs in")
    func remove() async throws {
        let server = try await TestServer(configure: Self.settings)
        try await server.test { client in
            let token = try await Self.account(client, "fay@example.com")
            try await Self.addVerified(server, client, token, "fay.old@example.com")
            #expect(try await Self.call(client, .delete, "/v1/me/emails/fay%40example.com", token).errorCode == "primary_email")
            #expect(try await Self.call(client, .delete, "/v1/me/emails/other@example.com", token).status == .notFound)
            #expect(try await client.login("fay.old@example.com").status == .ok)
            #expect(try await Self.call(client, .delete, "/v1/me/emails/FAY.OLD@example.com", token).status == .noContent)
            #expect(try await client.login("fay.old@example.com").status == .unauthorized)
            let notices = try await server.storage.listMail(status: .queued, recipient: "fay.old@example.com", limit: 10).filter { $0.request.template == .emailRemoved }
            #expect(notices.count == 1)
        }
    }

    @Test("the lock-out counts an account's failures over all its addresses")
    func lockOutPerAccount() async throws {
        let server = try await TestServer { settings in
            Self.settings(&settings)
            settings.loginMaxFailures = 3
        }
        try await server.test { client in
            let token = try await Self.account(client, "hal@example.com")
            try await Self.addVerified(server, client, token, "hal.other@example.com")
            for email in ["hal@example.com", "hal@example.com", "HAL.OTHER@example.com"] {
                #expect(try await client.login(email, "a wrong password").status == .unauthorized)
            }
            let locked = try await client.login("hal.other@example.com")
            #expect(locked.status == .tooManyRequests && locked.errorCode == "too_many_attempts")
            #expect(try await client.login("hal@example.com").status == .tooManyRequests)
        }
    }

    @Test("a password reset drops addresses still waiting for their code")
    func resetDropsPending() async throws {
        let server = try await TestServer(configure: Self.settings)
        try await server.test { client in
            let token = try await Self.account(client, "gil@example.com")
            _ = try await Self.call(client, .post, "/v1/me/emails", token, ["email": "gil.pending@example.com"])
            _ = try await client.post("/v1/password/forgot", json: ["email": "gil@example.com"])
            let code = try await LifecycleTests.code(server, to: "gil@example.com", .recoveryCode)
            #expect(try await client.post("/v1/password/reset", json: ["email": "gil@example.com", "code": code, "password": "a fine new passphrase"]).status == .ok)
            let user = try #require(try await server.storage.user(email: "gil@example.com"))
            #expect(try await server.storage.emails(userID: user.id).map(\.email) == ["gil@example.com"])
        }
    }
}

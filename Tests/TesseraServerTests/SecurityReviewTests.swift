import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import Tessera
@testable import TesseraCore
import TesseraCrypto
import TesseraServer
@testable import TesseraSQLite
import TesseraTestSupport

/// One regression test per finding of the security review of 2026-12
/// (`shared/reviews/security-2026-12.md`), named after it, at the level where the defect lived.
/// The findings that need the real binary, a third-party client or real concurrency across
/// connections are in `Tests/interop/test_security_review.py`.
@Suite("Security review 2026-12")
struct SecurityReviewTests {
    let flow = AuthorizeTests()

    /// A server with the review's `WEB` client (confidential, code + refresh) and a user.
    func webSetup(configure: (inout Settings) -> Void = { _ in }) async throws -> AuthorizeTests.Setup {
        try await flow.setup(configure: configure)
    }

    /// Signs xena up, logs in through the form and returns a code for `web`.
    func code(_ browser: inout Browser, _ extra: [String: String] = [:]) async throws -> String {
        let redirect = try await flow.logIn(&browser, flow.authorizeURI(extra))
        return try #require(redirect.query("code"))
    }

    @Test("F1: /v1/token/refresh refuses a registered client's refresh token, and leaves it working at /oauth2/token")
    func f1() async throws {
        let setup = try await webSetup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let tokens = try await flow.redeem(client, setup, code: try await code(&browser))
            let refresh = try #require(tokens.json["refresh_token"] as? String)
            let stolen = try await client.refresh(refresh)
            #expect(stolen.status == .unauthorized)
            #expect(stolen.errorCode == "invalid_grant")
            let byCookie = try await client.execute(uri: "/v1/token/refresh", method: .post, headers: [.cookie: "tessera_refresh=\(refresh)"])
            #expect(byCookie.status == .unauthorized)
            let proper = try await client.postForm("/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh], headers: basic("web", setup.secret))
            #expect(proper.status == .ok, "the refused attempt spent nothing")
        }
    }

    @Test("F2: /v1/login refuses a confidential client, and gives a public one a refresh token only when registered for it")
    func f2() async throws {
        let server = try await TestServer()
        try await server.registerClient("backend", grants: [.password], scope: "openid email", audience: "https://internal-api.example.test")
        try await server.registerClient("app", confidential: false, grants: [.password], scope: "openid email")
        try await server.registerClient("app-offline", confidential: false, grants: [.password, .refreshToken], scope: "openid email")
        try await server.test { client in
            _ = try await client.signUp("ivy@example.com")
            let confidential = try await client.login("ivy@example.com", extra: ["client_id": "backend"])
            #expect(confidential.status == .badRequest)
            #expect(confidential.errorCode == "invalid_client")
            let noRefresh = try await client.login("ivy@example.com", extra: ["client_id": "app"])
            #expect(noRefresh.status == .ok)
            #expect(noRefresh.json["refresh_token"] == nil)
            #expect(noRefresh.headers[.setCookie] == nil)
            let withRefresh = try await client.login("ivy@example.com", extra: ["client_id": "app-offline"])
            #expect(withRefresh.json["refresh_token"] is String)
            #expect(try await client.login("ivy@example.com").json["refresh_token"] is String, "the first-party client always gets one")
        }
    }

    @Test("F3: a replay that commits right after the redemption revokes the family the redemption stored")
    func f3() async throws {
        // The race itself runs through the real binary in the interop stage; here, the store's
        // contract: the family exists once redeemCode returns, so a replay finds it.
        let setup = try await webSetup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let code = try await code(&browser)
            let hash = TokenHash(bytes: OpenSSLPrimitives().sha256(Array(code.utf8)))
            let storage = setup.server.storage
            let family = RefreshTokenFamily(
                id: "planned-family", userID: "", clientID: "web", scope: "openid offline_access", authTime: Date(), createdAt: Date(),
                expiresAt: Date().addingTimeInterval(3600))
            let first = TokenHash(bytes: OpenSSLPrimitives().sha256(Array("first".utf8)))
            let outcome = try await storage.redeemCode(hash, clientID: "web", decide: { record, _ in
                var planned = family
                planned.userID = record.userID
                return .issue(PlannedIssue(accessJTI: "jti-1", accessExpiresAt: Date().addingTimeInterval(900), family: planned, firstRefreshToken: first))
            }, now: Date())
            guard case .redeemed = outcome else { Issue.record("not redeemed: \(outcome)"); return }
            #expect(try await storage.inspect(first)?.familyRevoked == false)
            #expect(try await storage.redeemCode(hash, clientID: "web", decide: { _, _ in .refuse(.invalidGrant(reason: "unused")) }, now: Date()) == .replayed)
            #expect(try await storage.inspect(first)?.familyRevoked == true)
        }
    }

    @Test("F4: /v1/me needs the account scope; introspection names the user only with the email scope; discovery lists account")
    func f4() async throws {
        let setup = try await webSetup()
        try await setup.server.registerClient("mine", confidential: false, grants: [.authorizationCode], scope: "openid account", redirectURIs: ["https://mine.example.test/cb"])
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let tokens = try await flow.redeem(client, setup, code: try await code(&browser, ["scope": "openid offline_access"]))
            let access = try #require(tokens.json["access_token"] as? String)
            let me = try await client.me(access)
            #expect(me.status == .forbidden)
            #expect(me.errorCode == "insufficient_scope")
            #expect(me.headers[.wwwAuthenticate]?.contains(#"error="insufficient_scope""#) == true)
            for token in [access, try #require(tokens.json["refresh_token"] as? String)] {
                let introspected = try await client.postForm("/oauth2/introspect", ["token": token], headers: basic("web", setup.secret))
                #expect(introspected.json["active"] as? Bool == true)
                #expect(introspected.json["username"] == nil)
            }
            // A client registered with account gets it only when it asks.
            let mine = "https://mine.example.test/cb"
            let unasked = try await browser.get(flow.authorizeURI(["client_id": "mine", "redirect_uri": mine, "scope": ""], client: "mine"))
            #expect(unasked.query("code") != nil)
            let asked = try await browser.get(flow.authorizeURI(["client_id": "mine", "redirect_uri": mine, "scope": "openid account"], client: "mine"))
            let exchanged = try await client.postForm("/oauth2/token", [
                "grant_type": "authorization_code", "code": try #require(asked.query("code")), "client_id": "mine", "redirect_uri": mine,
                "code_verifier": AuthorizeTests.verifier,
            ])
            #expect(try await client.me(try #require(exchanged.json["access_token"] as? String)).status == .ok)
            let unaskedTokens = try await client.postForm("/oauth2/token", [
                "grant_type": "authorization_code", "code": try #require(unasked.query("code")), "client_id": "mine", "redirect_uri": mine,
                "code_verifier": AuthorizeTests.verifier,
            ])
            #expect(unaskedTokens.json["scope"] as? String == "openid")
            let firstParty = try #require(try await client.login("xena@example.com", extra: ["scope": "openid"]).json["access_token"] as? String)
            #expect(try await client.me(firstParty).status == .ok, "first-party tokens always carry account")
            let discovery = try await client.execute(uri: "/.well-known/openid-configuration", method: .get)
            #expect((discovery.json["scopes_supported"] as? [String])?.contains("account") == true)
        }
    }

    @Test("F4: a first-party family from before the account scope refreshes into tokens that carry it")
    func f4OlderFamilies() async throws {
        let server = try await TestServer()
        try await server.test { client in
            _ = try await client.signUp("old@example.com")
            let user = try #require(try await server.storage.user(email: "old@example.com"))
            let token = RefreshToken.generate(using: OpenSSLPrimitives())
            try await server.storage.createFamily(RefreshTokenFamily(
                id: "older", userID: user.id, clientID: FirstPartyClient.id, scope: "openid email profile", authTime: server.clock.now,
                createdAt: server.clock.now, expiresAt: server.clock.now.addingTimeInterval(3600)), firstToken: token.hash(using: OpenSSLPrimitives()), now: server.clock.now)
            let refreshed = try await client.refresh(token.value)
            #expect(refreshed.status == .ok)
            #expect(refreshed.json["scope"] as? String == "openid email profile account")
            #expect(try await client.me(try #require(refreshed.json["access_token"] as? String)).status == .ok)
        }
    }

    @Test("F5: the config file owns its clients: removed from it, a client is gone with its tokens at the next start")
    func f5() async throws {
        let declared = ClientDeclaration(
            id: "cfgweb", name: "cfgweb", secret: String(repeating: "s", count: 40), redirectURIs: [], postLogoutRedirectURIs: [],
            grants: [.clientCredentials], scope: Scope(["api"]), audience: nil)
        let server = try await TestServer { $0.clients = [declared] }
        try await TesseraRuntime.registerConfiguredClients(server.settings, storage: server.storage, logger: testLogger)
        #expect(try await server.storage.client(id: "cfgweb")?.source == .config)
        try await server.registerClient("adminmade", grants: [.clientCredentials], scope: "api")
        let token = try await server.test { client in
            let response = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials"], headers: basic("cfgweb", declared.secret!))
            return try #require(response.json["access_token"] as? String)
        }
        let restarted = try await server.restarted { $0.clients = [] }
        try await TesseraRuntime.registerConfiguredClients(restarted.settings, storage: restarted.storage, logger: testLogger)
        #expect(try await restarted.storage.client(id: "cfgweb") == nil)
        #expect(try await restarted.storage.client(id: "adminmade") != nil, "clients the admin CLI made are not the file's")
        try await restarted.test { client in
            let refused = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials"], headers: basic("cfgweb", declared.secret!))
            #expect(refused.status == .unauthorized)
        }
        let validator = restarted.dependencies.accounts.accessTokens
        await #expect(throws: BearerError.self) { _ = try await validator.validate(token, audience: nil) }
    }

    @Test("F6, F9: thousands of long, distinct junk emails and client ids leave the throttle and the client memo empty")
    func f6f9() async throws {
        let server = try await TestServer { $0.loginIPRate = 0 }
        let throttle = server.dependencies.accounts.throttle
        try await server.test { client in
            for index in 0..<2_000 {
                let junk = String(repeating: "x", count: 4_000) + "\(index)@example.com"
                let login = try await client.login(junk, "wrong password!")
                #expect(login.status == .unauthorized)
                let token = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials", "client_id": junk, "client_secret": "s"])
                #expect(token.status == .unauthorized)
            }
        }
        #expect(throttle.trackedAccounts == 0)
        #expect(server.storage.clientMemoCount == 0)
        // Valid addresses are remembered by a fixed-size digest and forgotten once their
        // failures leave the window.
        try await server.test { client in
            for index in 0..<5 { _ = try await client.login("guess\(index)@example.com", "wrong password!") }
        }
        #expect(throttle.trackedAccounts == 5)
        server.clock.advance(by: server.settings.loginFailureWindow + 1)
        try await server.test { client in _ = try await client.login("late@example.com", "wrong password!") }
        #expect(throttle.trackedAccounts == 1)
    }

    @Test("F7: sign-ups are limited per IP (2/s in bursts of 10) with 429 too_many_requests and Retry-After")
    func f7() async throws {
        let server = try await TestServer()
        try await server.test { client in
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<11 { statuses.append(try await client.signUp("user\(index)@example.com").status) }
            #expect(statuses.prefix(10).allSatisfy { $0 == .created })
            let refused = try await client.signUp("user11@example.com")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "too_many_requests")
            #expect(refused.headers[.retryAfter] == "1")
            #expect(try await server.storage.user(email: "user11@example.com") == nil)
            server.clock.advance(by: 1)
            #expect(try await client.signUp("user11@example.com").status == .created)
        }
    }

    @Test("F7: sign-ups may hold only half of the hashing slots; sign-ins keep the rest")
    func f7Reserved() async throws {
        let hasher = BcryptPasswordHasher(capacity: 4, waitingRoom: 0)
        let hash = try await hasher.hash("x", cost: 12, priority: .other)
        // Four slow sign-up hashes at once: two run, two are turned away at once.
        let signUps = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 { group.addTask { (try? await hasher.hash("x", cost: 12, priority: .other)) != nil } }
            // While they run, a sign-in still gets a slot.
            group.addTask {
                try? await Task.sleep(for: .milliseconds(50))
                return (try? await hasher.verify("x", against: hash)) == true
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(signUps.filter { $0 }.count == 3, "two sign-ups and the sign-in")
        #expect(hasher.load.running == 0)
    }

    @Test("F8: concurrent wrong passwords for one account try at most login_max_failures passwords")
    func f8() async throws {
        let hasher = CountingHasher()
        let server = try await TestServer(hasher: hasher) { $0.loginMaxFailures = 3; $0.loginIPRate = 0 }
        try await server.test { client in
            _ = try await client.signUp("tim@example.com")
            let before = hasher.verifications.withLock { $0 }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<16 { group.addTask { try await client.login("tim@example.com", "wrong password!").status } }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count <= 3)
            #expect(statuses.filter { $0 == .tooManyRequests }.count >= 13)
            #expect(hasher.verifications.withLock { $0 } - before <= 3)
        }
    }

    @Test("F10: unknown emails are checked against a dummy of the cost stored hashes have, not the configured one")
    func f10() async throws {
        let server = try await TestServer()
        let hashing = PasswordHashing(hasher: BcryptPasswordHasher(), crypto: OpenSSLPrimitives())
        let hash = try await hashing.hash(try PasswordPolicy.validate("correct horse battery"), cost: 11, priority: .other)
        let user = User(id: "u1", email: "old@example.com", emailVerified: false, passwordHash: hash, status: .active, attributes: [:],
                        createdAt: Date(), updatedAt: Date())
        try await server.storage.createUser(user, postSignUpHooks: [], verification: nil, now: Date())
        #expect(try await server.storage.passwordHashCosts() == [11: 1])
        let costs = server.dependencies.accounts.costs
        await costs.reload(now: server.clock.now)
        #expect((0..<20).allSatisfy { _ in costs.draw(now: server.clock.now) == 11 }, "configured 10, every stored hash 11")
        // The histogram follows every change to a hash, without reading the users table.
        let rehashed = try await hashing.hash(try PasswordPolicy.validate("correct horse battery"), cost: 10, priority: .other)
        try await server.storage.updatePasswordHash(userID: "u1", hash: rehashed, now: Date())
        #expect(try await server.storage.passwordHashCosts() == [10: 1])
        try await server.storage.deleteUser(id: "u1", farewell: nil, now: Date())
        #expect(try await server.storage.passwordHashCosts() == [:])
    }

    @Test("F11: a code minted before a global sign-out is refused afterwards")
    func f11() async throws {
        let setup = try await webSetup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let code = try await code(&browser)
            let user = try #require(try await setup.server.storage.user(email: "xena@example.com"))
            setup.server.clock.advance(by: 2)
            try await setup.server.storage.revokeAllTokens(userID: user.id, now: setup.server.clock.now)
            let refused = try await flow.redeem(client, setup, code: code)
            #expect(refused.status == .badRequest)
            #expect(refused.errorCode == "invalid_grant")
        }
    }

    @Test("F12: logout by GET without a hint asks to confirm (CSRF-protected); POST works; a hint for the session's user signs out at once")
    func f12() async throws {
        let setup = try await webSetup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let tokens = try await flow.redeem(client, setup, code: try await code(&browser))
            let idToken = try #require(tokens.json["id_token"] as? String)
            let asked = try await browser.get("/oauth2/logout")
            #expect(asked.status == .ok)
            #expect(asked.html.contains("Sign out?"))
            #expect(browser.cookies["__Host-tessera_session"] != nil, "nothing ended before the user confirms")
            var forged = asked.formFields
            forged["csrf_token"] = "forged"
            #expect(try await browser.post("/oauth2/logout", form: forged).status == .forbidden)
            #expect(try await browser.get(flow.authorizeURI(["prompt": "none"])).query("code") != nil, "still signed in")
            let confirmed = try await browser.post("/oauth2/logout", form: asked.formFields)
            #expect(confirmed.status == .ok)
            #expect(browser.cookies["__Host-tessera_session"] == nil)
            #expect(try await browser.get(flow.authorizeURI(["prompt": "none"])).query("error") == "login_required")
            // Signed in again: a POST with a hint for this user needs no confirmation.
            _ = try await code(&browser)
            let byPost = try await browser.post("/oauth2/logout", form: [
                "id_token_hint": idToken, "post_logout_redirect_uri": "https://app.example.test/bye", "state": "st",
            ])
            #expect(byPost.status == .seeOther)
            #expect(byPost.headers[.location] == "https://app.example.test/bye?state=st")
        }
    }

    @Test("F13: prompt=consent shows a consent page (allow issues the code, decline is access_denied); select_account shows the form; id_token_hint for another user is login_required with prompt=none")
    func f13() async throws {
        let setup = try await webSetup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            _ = try await client.signUp("yann@example.com")
            var yann = Browser(client: client)
            let page = try await yann.get(flow.authorizeURI())
            var form = page.formFields
            form["email"] = "yann@example.com"
            form["password"] = "correct horse battery"
            let yannCode = try #require(try await yann.post("/oauth2/authorize", form: form).query("code"))
            let yannID = try #require(try await flow.redeem(client, setup, code: yannCode).json["id_token"] as? String)

            var browser = Browser(client: client)
            _ = try await code(&browser)
            let consent = try await browser.get(flow.authorizeURI(["prompt": "consent"]))
            #expect(consent.status == .ok)
            #expect(consent.html.contains("asks for access") && consent.html.contains("see your email address"))
            var allow = consent.formFields
            allow["consent"] = "allow"
            let allowed = try await browser.post("/oauth2/authorize", form: allow)
            #expect(allowed.query("code") != nil)
            let again = try await browser.get(flow.authorizeURI(["prompt": "consent"]))
            var deny = again.formFields
            deny["consent"] = "deny"
            #expect(try await browser.post("/oauth2/authorize", form: deny).query("error") == "access_denied")
            var forged = again.formFields
            forged["consent"] = "allow"
            forged["csrf_token"] = "forged"
            #expect(try await browser.post("/oauth2/authorize", form: forged).status == .forbidden)

            let select = try await browser.get(flow.authorizeURI(["prompt": "select_account"]))
            #expect(select.status == .ok && select.html.contains(#"name="password""#))

            let mismatch = try await browser.get(flow.authorizeURI(["prompt": "none", "id_token_hint": yannID]))
            #expect(mismatch.query("error") == "login_required")
            #expect(try await browser.get(flow.authorizeURI(["id_token_hint": yannID])).status == .ok, "the form, to sign in as the hinted user")
            let garbage = try await browser.get(flow.authorizeURI(["id_token_hint": "not.a.token"]))
            #expect(garbage.query("error") == "invalid_request")
        }
    }

    @Test("F14: a POST authorization request without the form's fields is handled like GET")
    func f14() async throws {
        let setup = try await webSetup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            _ = try await code(&browser)
            let parameters = try #require(URLComponents(string: flow.authorizeURI())?.queryItems)
            let posted = try await browser.post("/oauth2/authorize", form: Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value ?? "") }))
            #expect(posted.status == .seeOther)
            #expect(posted.query("code") != nil)
            var fresh = Browser(client: client)
            let form = try await fresh.post("/oauth2/authorize", form: Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value ?? "") }))
            #expect(form.status == .ok && form.html.contains(#"name="password""#))
        }
    }

    @Test("F16: the SHA-256 pre-hash of a long password cannot be typed instead of it, under the old scheme or the new")
    func f16() async throws {
        let crypto = OpenSSLPrimitives()
        let long = String(repeating: "long passphrase ", count: 7)
        let prehash = Data(crypto.sha256(Array(long.utf8))).base64EncodedString()
        let server = try await TestServer()
        // A hash stored by the old scheme: bcrypt over base64(SHA-256(password)).
        let legacy = try await BcryptPasswordHasher().hash(prehash, cost: 10, priority: .other)
        try await server.storage.createUser(User(
            id: "legacy", email: "old@example.com", emailVerified: false, passwordHash: legacy, status: .active, attributes: [:],
            createdAt: Date(), updatedAt: Date()), postSignUpHooks: [], verification: nil, now: Date())
        try await server.test { client in
            _ = try await client.signUp("new@example.com", long)
            for email in ["old@example.com", "new@example.com"] {
                #expect(try await client.login(email, prehash).status == .unauthorized, "\(email)")
                #expect(try await client.login(email, long).status == .ok, "\(email)")
            }
        }
        var upgraded: String?
        for _ in 0..<300 {  // a bounded poll (30 s): it fails only when the rehash never lands
            upgraded = try await server.storage.user(id: "legacy")?.passwordHash
            if upgraded?.hasPrefix("tessera-v2:") == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(upgraded?.hasPrefix("tessera-v2:") == true, "an old hash is replaced at the next login")
        let after = try await server.test { client in try await client.login("old@example.com", long).status }
        #expect(after == .ok)
    }

    @Test("F17: a new database and its directory are private to the server's user")
    func f17() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("data/deeper/t.sqlite")
        let storage = try SQLiteStorage(path: path)
        _ = try storage.migrate()
        func mode(_ file: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        }
        #expect(try mode(directory.path("data/deeper")) == 0o700)
        for file in [path, path + "-wal", path + "-shm"] { #expect(try mode(file) == 0o600, "\(file)") }
    }

    @Test("F18: an http loopback IP redirect URI matches on any port; other parts and hosts still match exactly")
    func f18() {
        let registered = "http://127.0.0.1:9/cb"
        #expect(AuthorizationRequest.redirectURI("http://127.0.0.1:10/cb", matches: registered))
        #expect(AuthorizationRequest.redirectURI("http://127.0.0.1:51234/cb", matches: registered))
        #expect(AuthorizationRequest.redirectURI("http://[::1]:4000/cb", matches: "http://[::1]/cb"))
        #expect(!AuthorizationRequest.redirectURI("http://127.0.0.1:10/cb/", matches: registered))
        #expect(!AuthorizationRequest.redirectURI("http://127.0.0.1:10/cb?x=1", matches: registered))
        #expect(!AuthorizationRequest.redirectURI("http://localhost:10/cb", matches: "http://localhost:9/cb"))
        #expect(!AuthorizationRequest.redirectURI("https://app.example:444/cb", matches: "https://app.example/cb"))
        #expect(!AuthorizationRequest.redirectURI("http://127.0.0.2:9/cb", matches: registered))
    }

    @Test("F19: expired families (with their tokens), ended and expired sessions and expired revoked jtis are swept")
    func f19() async throws {
        let setup = try await webSetup()
        let storage = setup.server.storage
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            _ = try await client.login("xena@example.com")
            var browser = Browser(client: client)
            _ = try await flow.redeem(client, setup, code: try await code(&browser))
            _ = try await browser.get("/oauth2/logout")
        }
        try await storage.revokeAccessToken(jti: "old", expiresAt: setup.server.clock.now.addingTimeInterval(900), now: setup.server.clock.now)
        func count(_ table: String) throws -> Int { try storage.rowCount(table) }
        #expect(try count("refresh_token_families") == 2 && count("refresh_tokens") == 2 && count("sso_sessions") == 1 && count("revoked_access_tokens") == 1)
        #expect(try await storage.sweepExpired(now: setup.server.clock.now, eventRetention: 2_592_000).total == 0, "nothing live is swept")
        let later = setup.server.clock.now.addingTimeInterval(setup.server.settings.refreshTokenTTL + 1)
        let swept = try await storage.sweepExpired(now: later, eventRetention: 2_592_000)
        // The sign-up's verification code is long dead too (its mail, never sent here, stays queued),
        // and its user.created event is past the 30-day event retention.
        #expect(swept == SweepCounts(families: 2, sessions: 1, revokedJTIs: 1, codes: 1, oneTimeCodes: 1, events: 1))
        for table in ["refresh_token_families", "refresh_tokens", "sso_sessions", "revoked_access_tokens"] { #expect(try count(table) == 0, "\(table)") }
    }

    @Test("F21: the session and CSRF cookies are __Host- cookies: Secure, Path=/, no Domain")
    func f21() async throws {
        let setup = try await webSetup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let page = try await browser.get(flow.authorizeURI())
            var form = page.formFields
            form["email"] = "xena@example.com"
            form["password"] = "correct horse battery"
            let done = try await client.postForm("/oauth2/authorize", form, headers: browser.cookieHeader)
            let cookies = (page.headers + done.headers).filter { $0.name == .setCookie }.map(\.value)
            #expect(cookies.contains { $0.hasPrefix("__Host-tessera_session=") })
            #expect(cookies.contains { $0.hasPrefix("__Host-tessera_csrf=") })
            for cookie in cookies where cookie.hasPrefix("__Host-") {
                #expect(cookie.contains("; Secure") && cookie.contains("; Path=/;") && !cookie.lowercased().contains("domain="), "\(cookie)")
            }
        }
    }
}

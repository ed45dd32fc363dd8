import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraCrypto
import TesseraServer
import TesseraSQLite

/// Drives the hosted login as a browser would: keeps cookies, submits the form.
struct Browser {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]

    mutating func get(_ uri: String) async throws -> TestResponse {
        let response = try await client.execute(uri: uri, method: .get, headers: cookieHeader)
        remember(response)
        return response
    }

    mutating func post(_ uri: String, form: [String: String]) async throws -> TestResponse {
        let response = try await client.postForm(uri, form, headers: cookieHeader)
        remember(response)
        return response
    }

    var cookieHeader: HTTPFields {
        cookies.isEmpty ? [:] : [.cookie: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
    }

    mutating func remember(_ response: TestResponse) {
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard pair.count == 2 else { continue }
            if field.value.contains("Max-Age=0") { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
    }
}

extension TestResponse {
    var html: String { String(decoding: data, as: UTF8.self) }
    var location: URLComponents? { headers[.location].flatMap(URLComponents.init(string:)) }
    func query(_ name: String) -> String? { location?.queryItems?.first { $0.name == name }?.value }
    /// The hidden inputs of the login form.
    var formFields: [String: String] {
        var fields: [String: String] = [:]
        let pattern = #/<input type="hidden" name="([^"]+)" value="([^"]*)">/#
        for match in html.matches(of: pattern) {
            fields[String(match.1)] = String(match.2).replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&quot;", with: "\"")
        }
        return fields
    }
}

@Suite("Authorization code flow")
struct AuthorizeTests {
    static let redirect = "https://app.example.test/callback"
    static let verifier = String(repeating: "v", count: 43) + "erifier"
    static var challenge: String { Base64URL.encode(OpenSSLPrimitives().sha256(Array(verifier.utf8))) }

    struct Setup {
        let server: TestServer
        let secret: String
    }

    func setup(configure: (inout Settings) -> Void = { _ in }) async throws -> Setup {
        let server = try await TestServer(configure: configure)
        let secret = try #require(try await server.registerClient(
            "web", grants: [.authorizationCode, .refreshToken], redirectURIs: [Self.redirect, "https://app.example.test/other"],
            postLogoutRedirectURIs: ["https://app.example.test/bye"]))
        try await server.registerClient("spa", confidential: false, grants: [.authorizationCode], redirectURIs: ["https://spa.example.test/cb"])
        return Setup(server: server, secret: secret)
    }

    func authorizeURI(_ extra: [String: String] = [:], client: String = "web") -> String {
        var parameters = ["response_type": "code", "client_id": client, "redirect_uri": Self.redirect, "scope": "openid email offline_access",
                          "state": "s-123", "nonce": "n-456", "code_challenge": Self.challenge, "code_challenge_method": "S256"]
        for (key, value) in extra { parameters[key] = value.isEmpty ? nil : value }
        var components = URLComponents(string: "/oauth2/authorize")!
        components.queryItems = parameters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return components.string!.replacingOccurrences(of: "+", with: "%2B")
    }

    /// Logs in through the form; returns the redirect response.
    func logIn(_ browser: inout Browser, _ uri: String, password: String = "correct horse battery") async throws -> TestResponse {
        let page = try await browser.get(uri)
        #expect(page.status == .ok)
        var form = page.formFields
        form["email"] = "xena@example.com"
        form["password"] = password
        return try await browser.post("/oauth2/authorize", form: form)
    }

    func redeem(_ client: any TestClientProtocol, _ setup: Setup, code: String, verifier: String? = AuthorizeTests.verifier, redirect: String? = AuthorizeTests.redirect) async throws -> TestResponse {
        var form = ["grant_type": "authorization_code", "code": code]
        form["code_verifier"] = verifier
        form["redirect_uri"] = redirect
        return try await client.postForm("/oauth2/token", form, headers: basic("web", setup.secret))
    }

    @Test("the login page is plain, escaped HTML with a CSRF token and strict security headers")
    func loginPage() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            var browser = Browser(client: client)
            let page = try await browser.get(authorizeURI(["state": "<script>alert(1)</script>"]))
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(!page.html.contains("<script>"))
            #expect(page.html.contains("&lt;script&gt;"))
            #expect(page.html.contains(#"<label for="email">"#) && page.html.contains(#"autocomplete="current-password""#))
            #expect(!page.html.contains("src=") && !page.html.contains("<link") && !page.html.contains("<script"))
            #expect(page.formFields["csrf_token"] == browser.cookies["__Host-tessera_csrf"])
        }
    }

    @Test("login, code, token: ID token with nonce, at_hash and auth_time; refresh token with offline_access")
    func fullFlow() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let redirect = try await logIn(&browser, authorizeURI())
            #expect(redirect.status == .seeOther)
            #expect(redirect.headers[.location]?.hasPrefix(Self.redirect + "?") == true)
            #expect(redirect.query("state") == "s-123")
            #expect(redirect.query("iss") == "https://id.example.test")
            #expect(browser.cookies["__Host-tessera_session"] != nil)
            let code = try #require(redirect.query("code"))
            let tokens = try await redeem(client, setup, code: code)
            #expect(tokens.status == .ok)
            #expect(tokens.headers[.cacheControl] == "no-store")
            let access = try #require(tokens.json["access_token"] as? String)
            let id = claims(of: try #require(tokens.json["id_token"] as? String))
            #expect(id["aud"] as? String == "web")
            #expect(id["nonce"] as? String == "n-456")
            #expect(id["email"] as? String == "xena@example.com")
            #expect(id["auth_time"] as? Int == Int(setup.server.clock.now.timeIntervalSince1970))
            #expect(id["at_hash"] as? String == Base64URL.encode(OpenSSLPrimitives().sha256(Array(access.utf8)).prefix(16)))
            #expect(tokens.json["refresh_token"] is String)
        }
    }

    @Test("no offline_access, no refresh token")
    func noOfflineAccess() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let code = try #require(try await logIn(&browser, authorizeURI(["scope": "openid"])).query("code"))
            let tokens = try await redeem(client, setup, code: code)
            #expect(tokens.status == .ok)
            #expect(tokens.json["refresh_token"] == nil)
        }
    }

    @Test("a second client skips the form through the SSO session; prompt=login and max_age force it again")
    func singleSignOn() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            _ = try await logIn(&browser, authorizeURI())
            let again = try await browser.get(authorizeURI(["client_id": "spa", "redirect_uri": "https://spa.example.test/cb"], client: "spa"))
            #expect(again.status == .seeOther)
            #expect(again.query("code") != nil)
            #expect(try await browser.get(authorizeURI(["prompt": "login"])).status == .ok)
            setup.server.clock.advance(by: 120)
            #expect(try await browser.get(authorizeURI(["max_age": "60"])).status == .ok)
            #expect(try await browser.get(authorizeURI(["max_age": "600"])).status == .seeOther)
        }
    }

    @Test("prompt=none without a session redirects with login_required")
    func promptNone() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            var browser = Browser(client: client)
            let response = try await browser.get(authorizeURI(["prompt": "none"]))
            #expect(response.status == .seeOther)
            #expect(response.query("error") == "login_required")
            #expect(response.query("state") == "s-123")
        }
    }

    @Test("an unknown client or an unregistered redirect URI shows an error page and never redirects", arguments: [
        ["client_id": "nobody"], ["client_id": ""], ["redirect_uri": "https://app.example.test/callback/"],
        ["redirect_uri": "https://app.example.test/callback/extra"], ["redirect_uri": "https://app.example.test:8443/callback"],
        ["redirect_uri": "http://app.example.test/callback"], ["redirect_uri": "https://evil.example/callback"],
        ["redirect_uri": "https://app.example.test/callback?x=1"], ["redirect_uri": "https://APP.example.test/callback"],
        ["redirect_uri": "https://app.example.test.evil.example/callback"], ["client_id": "tessera"],
    ])
    func errorPage(extra: [String: String]) async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            var browser = Browser(client: client)
            let response = try await browser.get(authorizeURI(extra))
            #expect(response.status == .badRequest)
            #expect(response.headers[.location] == nil)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
        }
    }

    @Test("other errors redirect to the client with error, description and state", arguments: [
        (["response_type": "token"], "unsupported_response_type"),
        (["response_type": ""], "invalid_request"),
        (["scope": "openid admin"], "invalid_scope"),
        (["code_challenge_method": "plain"], "invalid_request"),
        (["code_challenge_method": ""], "invalid_request"),
        (["code_challenge": "short"], "invalid_request"),
        (["prompt": "none login"], "invalid_request"),
        (["max_age": "-1"], "invalid_request"),
    ])
    func errorRedirects(extra: [String: String], error: String) async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            var browser = Browser(client: client)
            let response = try await browser.get(authorizeURI(extra))
            #expect(response.status == .seeOther)
            #expect(response.headers[.location]?.hasPrefix(Self.redirect + "?") == true)
            #expect(response.query("error") == error)
            #expect(response.query("error_description") != nil)
            #expect(response.query("state") == "s-123")
        }
    }

    @Test("a public client must use PKCE; a confidential one may skip it")
    func publicClientNeedsPKCE() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            var browser = Browser(client: client)
            let spa = try await browser.get(authorizeURI(["redirect_uri": "https://spa.example.test/cb", "code_challenge": "", "code_challenge_method": ""], client: "spa"))
            #expect(spa.query("error") == "invalid_request")
            let web = try await browser.get(authorizeURI(["code_challenge": "", "code_challenge_method": ""]))
            #expect(web.status == .ok)
        }
    }

    @Test("a wrong PKCE verifier, a missing one, another redirect URI or another client fail with invalid_grant")
    func redemptionChecks() async throws {
        let setup = try await setup()
        let other = try #require(try await setup.server.registerClient("other", grants: [.authorizationCode], redirectURIs: [Self.redirect]))
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            func freshCode() async throws -> String { try #require(try await logIn(&browser, authorizeURI(["prompt": "login"])).query("code")) }
            #expect(try await redeem(client, setup, code: try await freshCode(), verifier: String(repeating: "w", count: 50)).errorCode == "invalid_grant")
            #expect(try await redeem(client, setup, code: try await freshCode(), verifier: nil).errorCode == "invalid_grant")
            #expect(try await redeem(client, setup, code: try await freshCode(), redirect: "https://app.example.test/other").errorCode == "invalid_grant")
            let stolen = try await client.postForm("/oauth2/token", ["grant_type": "authorization_code", "code": try await freshCode(), "redirect_uri": Self.redirect, "code_verifier": Self.verifier], headers: basic("other", other))
            #expect(stolen.errorCode == "invalid_grant")
            let code = try await freshCode()
            setup.server.clock.advance(by: 61)
            #expect(try await redeem(client, setup, code: code).errorCode == "invalid_grant")
        }
    }

    @Test("a code presented twice fails and revokes every token issued from it")
    func codeReplay() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let code = try #require(try await logIn(&browser, authorizeURI()).query("code"))
            let first = try await redeem(client, setup, code: code)
            let access = try #require(first.json["access_token"] as? String)
            let refresh = try #require(first.json["refresh_token"] as? String)
            let replay = try await redeem(client, setup, code: code)
            #expect(replay.status == .badRequest)
            #expect(replay.errorCode == "invalid_grant")
            let introspected = try await client.postForm("/oauth2/introspect", ["token": access], headers: basic("web", setup.secret))
            #expect(introspected.json["active"] as? Bool == false)
            let refreshed = try await client.postForm("/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh], headers: basic("web", setup.secret))
            #expect(refreshed.errorCode == "invalid_grant")
        }
    }

    @Test("the form refuses a missing or wrong CSRF token and wrong passwords, with the same anti-enumeration answer")
    func formChecks() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let page = try await browser.get(authorizeURI())
            var form = page.formFields
            form["email"] = "xena@example.com"
            form["password"] = "correct horse battery"
            form["csrf_token"] = "forged"
            let forged = try await browser.post("/oauth2/authorize", form: form)
            #expect(forged.status == .forbidden)
            #expect(forged.headers[.location] == nil)
            let wrong = try await logIn(&browser, authorizeURI(), password: "not the password")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.html.contains("Email or password is incorrect."))
            #expect(browser.cookies["__Host-tessera_session"] == nil)
        }
    }

    @Test("while the password pool is full the form answers 503 with Retry-After and shows itself again, keeping the request")
    func formWhenBusy() async throws {
        let server = try await TestServer(hasher: CountingHasher(saturated: true))
        try await server.registerClient("web", grants: [.authorizationCode], redirectURIs: [Self.redirect])
        try await server.test { client in
            var browser = Browser(client: client)
            let busy = try await logIn(&browser, authorizeURI(["scope": "openid"]))
            #expect(busy.status == .serviceUnavailable)
            #expect(busy.headers[.retryAfter] == "1")
            #expect(busy.html.contains("The service is busy."))
            #expect(busy.html.contains(#"value="xena@example.com""#) && busy.formFields["client_id"] == "web")
        }
    }

    @Test("logout ends the SSO session and returns only to a registered address, with state")
    func logout() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            _ = try await client.signUp("xena@example.com")
            var browser = Browser(client: client)
            let code = try #require(try await logIn(&browser, authorizeURI()).query("code"))
            let idToken = try #require(try await redeem(client, setup, code: code).json["id_token"] as? String)
            let evil = try await browser.get("/oauth2/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")
            #expect(evil.status == .badRequest)
            #expect(evil.headers[.location] == nil)
            let out = try await browser.get("/oauth2/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=https%3A%2F%2Fapp.example.test%2Fbye&state=st")
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "https://app.example.test/bye?state=st")
            #expect(browser.cookies["__Host-tessera_session"] == nil)
            browser.cookies["__Host-tessera_session"] = "replayed-old-cookie"
            #expect(try await browser.get(authorizeURI()).status == .ok)
            let plain = try await browser.get("/oauth2/logout")
            #expect(plain.status == .ok)
            #expect(plain.html.contains("signed out"))
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraCrypto
import TesseraServer
import TesseraSQLite

@Suite("GET /v1/me and bearer tokens")
struct MeTests {
    func loggedIn(_ client: any TestClientProtocol) async throws -> (access: String, id: String, userID: String) {
        let signUp = try await client.signUp("lee@example.com", attributes: ["team": "blue"])
        let login = try await client.login("lee@example.com").json
        return (try #require(login["access_token"] as? String), try #require(login["id_token"] as? String), try #require(signUp.json["user_id"] as? String))
    }

    func expectRefused(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(response.errorCode == "invalid_token", sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true, sourceLocation: sourceLocation)
    }

    /// A token with our header shape, the given header and claims, and a signature of junk.
    func forge(header: [String: Any], claims: [String: Any], signature: [UInt8] = Array(repeating: 1, count: 256)) throws -> String {
        Base64URL.encode(try JSONSerialization.data(withJSONObject: header)) + "." + Base64URL.encode(try JSONSerialization.data(withJSONObject: claims)) + "." + Base64URL.encode(signature)
    }

    @Test("a valid access token gives the profile")
    func profile() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let (access, _, userID) = try await loggedIn(client)
            let response = try await client.me(access)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.json["user_id"] as? String == userID)
            #expect(response.json["email"] as? String == "lee@example.com")
            #expect(response.json["attributes"] as? [String: String] == ["team": "blue"])
            #expect(response.json["status"] as? String == "active")
        }
    }

    @Test("no token, another scheme or garbage: 401 invalid_token with WWW-Authenticate")
    func missing() async throws {
        let server = try await TestServer()
        try await server.test { client in
            expectRefused(try await client.execute(uri: "/v1/me", method: .get))
            expectRefused(try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Basic dXNlcjpwYXNz"]))
            expectRefused(try await client.me("garbage"))
        }
    }

    @Test("forged tokens are refused: alg none, HS256, unknown kid, altered payload, id token as access token")
    func forged() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let (access, idToken, _) = try await loggedIn(client)
            let claims = claims(of: access)
            let kid = try #require(server.keys.activeKid)
            let none = try forge(header: ["alg": "none", "typ": "at+jwt", "kid": kid], claims: claims, signature: [])
            expectRefused(try await client.me(String(none.dropLast(0))))
            expectRefused(try await client.me(try forge(header: ["alg": "HS256", "typ": "at+jwt", "kid": kid], claims: claims, signature: Array(repeating: 9, count: 32))))
            expectRefused(try await client.me(try forge(header: ["alg": "RS256", "typ": "at+jwt", "kid": "someone-elses-key"], claims: claims)))
            var escalated = claims
            escalated["sub"] = "another-user"
            let parts = access.split(separator: ".")
            let altered = parts[0] + "." + Base64URL.encode(try JSONSerialization.data(withJSONObject: escalated)) + "." + parts[2]
            expectRefused(try await client.me(String(altered)))
            expectRefused(try await client.me(idToken))
            // Signed by a key of the right size that is not ours.
            let stranger = try RSAPrivateKey.generate()
            struct Claims: Encodable { let iss, sub, aud, jti, client_id, scope: String; let exp, iat: Int }
            let foreign = try JWS.sign(
                Claims(iss: "https://id.example.test", sub: "x", aud: "https://id.example.test", jti: "j", client_id: "tessera", scope: "", exp: Int(server.clock.now.timeIntervalSince1970) + 600, iat: Int(server.clock.now.timeIntervalSince1970)),
                type: "at+jwt", kid: kid, key: stranger)
            expectRefused(try await client.me(foreign))
        }
    }

    @Test("an expired token is refused after its 900 s (plus leeway)")
    func expired() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let (access, _, _) = try await loggedIn(client)
            server.clock.advance(by: 900 + 29)
            #expect(try await client.me(access).status == .ok)
            server.clock.advance(by: 2)
            expectRefused(try await client.me(access))
        }
    }

    @Test("a token for another audience or issuer is refused")
    func wrongAudience() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let (access, _, _) = try await loggedIn(client)
            var claims = try JSONDecoder().decode(AccessTokenClaims.self, from: Base64URL.decode(access.split(separator: ".")[1])!)
            claims.aud = .one("https://api.elsewhere.example")
            expectRefused(try await client.me(try server.keys.sign(claims, type: "at+jwt")))
            claims.aud = .one("https://id.example.test")
            claims.iss = "https://evil.example"
            expectRefused(try await client.me(try server.keys.sign(claims, type: "at+jwt")))
        }
    }

    @Test("revoked tokens are refused: by jti, by global sign-out, by disabling the user")
    func revoked() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let (access, _, userID) = try await loggedIn(client)
            let jti = try #require(claims(of: access)["jti"] as? String)
            try await server.storage.revokeAccessToken(jti: jti, expiresAt: server.clock.now + 900, now: server.clock.now)
            expectRefused(try await client.me(access))

            server.clock.advance(by: 1)
            let second = try #require(try await client.login("lee@example.com").json["access_token"] as? String)
            #expect(try await client.me(second).status == .ok)
            try await server.storage.revokeAllTokens(userID: userID, now: server.clock.now)
            expectRefused(try await client.me(second))

            server.clock.advance(by: 1)
            let third = try #require(try await client.login("lee@example.com").json["access_token"] as? String)
            #expect(try await client.me(third).status == .ok)
            try await server.storage.setStatus(userID: userID, .disabled, now: server.clock.now)
            expectRefused(try await client.me(third))
        }
    }
}

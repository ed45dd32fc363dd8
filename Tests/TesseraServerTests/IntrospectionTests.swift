import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraServer
import TesseraSQLite

@Suite("Introspection, revocation and userinfo")
struct IntrospectionTests {
    struct Setup {
        let server: TestServer
        let rsSecret: String
        let appSecret: String
    }

    /// A resource server (`rs`) that introspects, and an app (`app`) with password + refresh.
    func setup() async throws -> Setup {
        let server = try await TestServer()
        let rs = try #require(try await server.registerClient("rs", grants: [.clientCredentials], scope: "x"))
        let app = try #require(try await server.registerClient("app", grants: [.password, .refreshToken], scope: "openid email profile"))
        return Setup(server: server, rsSecret: rs, appSecret: app)
    }

    func tokens(_ client: any TestClientProtocol, _ setup: Setup, scope: String = "openid email profile") async throws -> (access: String, refresh: String) {
        _ = try await client.signUp("wes@example.com", attributes: ["name": "Wes Example", "locale": "en-GB", "internal": "x"])
        let response = try await client.postForm("/oauth2/token", ["grant_type": "password", "username": "wes@example.com", "password": "correct horse battery", "scope": scope], headers: basic("app", setup.appSecret))
        return (try #require(response.json["access_token"] as? String), try #require(response.json["refresh_token"] as? String))
    }

    func introspect(_ client: any TestClientProtocol, _ setup: Setup, _ token: String) async throws -> TestResponse {
        try await client.postForm("/oauth2/introspect", ["token": token], headers: basic("rs", setup.rsSecret))
    }

    @Test("an active access token introspects with its claims; a refresh token too")
    func active() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            let (access, refresh) = try await tokens(client, setup)
            let response = try await introspect(client, setup, access)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.json["active"] as? Bool == true)
            #expect(response.json["client_id"] as? String == "app")
            #expect(response.json["username"] as? String == "wes@example.com")
            #expect(response.json["scope"] as? String == "openid email profile")
            #expect(response.json["token_type"] as? String == "Bearer")
            #expect(response.json["iss"] as? String == "https://id.example.test")
            #expect(response.json["exp"] is Int && response.json["sub"] is String && response.json["jti"] is String)
            #expect(response.json["iat"] is Int && response.json["auth_time"] is Int)
            #expect(response.json["aud"] as? String == "https://id.example.test")
            #expect(Set(response.json.keys) == ["active", "client_id", "username", "scope", "token_type", "iss", "exp", "iat", "sub", "aud", "jti", "auth_time"])
            let refreshed = try await introspect(client, setup, refresh)
            #expect(refreshed.json["active"] as? Bool == true)
            #expect(refreshed.json["token_type"] as? String == "refresh_token")
        }
    }

    @Test("expired, revoked, rotated, garbage and foreign tokens are inactive")
    func inactive() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            let (access, refresh) = try await tokens(client, setup)
            for token in ["garbage", "tsr_" + String(repeating: "B", count: 43), access + "x"] {
                #expect(try await introspect(client, setup, token).json.keys.sorted() == ["active"])
                #expect(try await introspect(client, setup, token).json["active"] as? Bool == false)
            }
            _ = try await client.postForm("/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh], headers: basic("app", setup.appSecret))
            #expect(try await introspect(client, setup, refresh).json["active"] as? Bool == false)
            setup.server.clock.advance(by: 931)
            #expect(try await introspect(client, setup, access).json["active"] as? Bool == false)
        }
    }

    @Test("introspection needs a confidential client")
    func introspectionAuth() async throws {
        let setup = try await setup()
        try await setup.server.registerClient("spa", confidential: false, grants: [.refreshToken], scope: "openid")
        try await setup.server.test { client in
            let anonymous = try await client.postForm("/oauth2/introspect", ["token": "x"])
            #expect(anonymous.status == .unauthorized)
            let publicClient = try await client.postForm("/oauth2/introspect", ["token": "x", "client_id": "spa"])
            #expect(publicClient.status == .unauthorized)
            #expect(publicClient.errorCode == "invalid_client")
            let noToken = try await client.postForm("/oauth2/introspect", [:], headers: basic("rs", setup.rsSecret))
            #expect(noToken.errorCode == "invalid_request")
        }
    }

    @Test("revoking an access token deny-lists it; revoking a refresh token kills its family; others' tokens and unknown ones are 200 and untouched")
    func revocation() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            let (access, refresh) = try await tokens(client, setup)
            let foreign = try await client.postForm("/oauth2/revoke", ["token": access], headers: basic("rs", setup.rsSecret))
            #expect(foreign.status == .ok)
            #expect(try await introspect(client, setup, access).json["active"] as? Bool == true)
            #expect(try await client.postForm("/oauth2/revoke", ["token": access], headers: basic("app", setup.appSecret)).status == .ok)
            #expect(try await introspect(client, setup, access).json["active"] as? Bool == false)
            #expect(try await client.me(access).status == .unauthorized)

            #expect(try await client.postForm("/oauth2/revoke", ["token": refresh, "token_type_hint": "refresh_token"], headers: basic("app", setup.appSecret)).status == .ok)
            #expect(try await introspect(client, setup, refresh).json["active"] as? Bool == false)
            let refreshAttempt = try await client.postForm("/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh], headers: basic("app", setup.appSecret))
            #expect(refreshAttempt.errorCode == "invalid_grant")
            #expect(try await client.postForm("/oauth2/revoke", ["token": "never-issued"], headers: basic("app", setup.appSecret)).status == .ok)
            #expect(try await client.postForm("/oauth2/revoke", ["token": "x"]).status == .unauthorized)
        }
    }

    @Test("userinfo by GET and POST returns the claims its scopes allow")
    func userInfo() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            let (access, _) = try await tokens(client, setup)
            let response = try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"])
            #expect(response.status == .ok)
            #expect(response.json["sub"] is String)
            #expect(response.json["email"] as? String == "wes@example.com")
            #expect(response.json["email_verified"] as? Bool == false)
            #expect(response.json["name"] as? String == "Wes Example")
            #expect(response.json["locale"] as? String == "en-GB")
            #expect(response.json["internal"] == nil)
            let posted = try await client.postForm("/oauth2/userinfo", ["access_token": access])
            #expect(posted.status == .ok)
            #expect(posted.json["sub"] as? String == response.json["sub"] as? String)
        }
    }

    @Test("userinfo filters by scope and refuses tokens without openid or without a user")
    func userInfoScopes() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            let (emailOnly, _) = try await tokens(client, setup, scope: "openid email")
            let response = try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(emailOnly)"])
            #expect(response.json["email"] != nil)
            #expect(response.json["name"] == nil)
            let noOpenID = try #require(try await client.postForm("/oauth2/token", ["grant_type": "password", "username": "wes@example.com", "password": "correct horse battery", "scope": "email"], headers: basic("app", setup.appSecret)).json["access_token"] as? String)
            let refused = try await client.execute(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(noOpenID)"])
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "insufficient_scope")
            let missing = try await client.execute(uri: "/oauth2/userinfo", method: .get)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate]?.contains("Bearer") == true)
        }
    }

    @Test("client_credentials tokens introspect as active and stop when revoked")
    func clientTokens() async throws {
        let setup = try await setup()
        try await setup.server.test { client in
            let access = try #require(try await client.postForm("/oauth2/token", ["grant_type": "client_credentials"], headers: basic("rs", setup.rsSecret)).json["access_token"] as? String)
            let active = try await introspect(client, setup, access)
            #expect(active.json["active"] as? Bool == true)
            #expect(active.json["sub"] as? String == "rs")
            #expect(active.json["username"] == nil)
            _ = try await client.postForm("/oauth2/revoke", ["token": access], headers: basic("rs", setup.rsSecret))
            #expect(try await introspect(client, setup, access).json["active"] as? Bool == false)
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraServer
import TesseraSQLite

@Suite("POST /oauth2/token")
struct TokenEndpointTests {
    @Test("client_credentials with client_secret_basic: sub is the client, audience and API scopes, no refresh or ID token")
    func clientCredentials() async throws {
        let server = try await TestServer()
        let secret = try #require(try await server.registerClient("reporting", grants: [.clientCredentials], scope: "reports.read reports.write openid", audience: "https://api.example.test"))
        try await server.test { client in
            let response = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials"], headers: basic("reporting", secret))
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.json["refresh_token"] == nil)
            #expect(response.json["id_token"] == nil)
            let granted = claims(of: try #require(response.json["access_token"] as? String))
            #expect(granted["sub"] as? String == "reporting")
            #expect(granted["client_id"] as? String == "reporting")
            #expect(granted["aud"] as? String == "https://api.example.test")
            #expect(granted["scope"] as? String == "reports.read reports.write")
            #expect(granted["auth_time"] == nil)
            let narrowed = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials", "scope": "reports.read", "client_id": "reporting", "client_secret": secret])
            #expect(claims(of: try #require(narrowed.json["access_token"] as? String))["scope"] as? String == "reports.read")
            let escalated = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials", "scope": "admin"], headers: basic("reporting", secret))
            #expect(escalated.status == .badRequest)
            #expect(escalated.errorCode == "invalid_scope")
        }
    }

    @Test("failed client authentication is 401 invalid_client with WWW-Authenticate")
    func clientAuthFailures() async throws {
        let server = try await TestServer()
        let secret = try #require(try await server.registerClient("svc", grants: [.clientCredentials], scope: "x"))
        try await server.test { client in
            for attempt in [
                basic("svc", secret + "x"), basic("svc", String(secret.dropLast())), basic("nobody", secret), [.authorization: "Basic !!!"],
                [.authorization: "Basic   "], [.authorization: "Basicx " + Data("svc:\(secret)".utf8).base64EncodedString()],
            ] {
                let response = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials"], headers: attempt)
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "invalid_client")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            }
            // The scheme is case-insensitive and the credentials may be padded (RFC 9110 §11.1, §5.6.3).
            let credentials = Data("svc:\(secret)".utf8).base64EncodedString()
            for header in ["bAsIc " + credentials, "Basic  \t" + credentials + " "] {
                let response = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials"], headers: [.authorization: header])
                #expect(response.status == .ok, "\(header)")
            }
            let noSecret = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials", "client_id": "svc"])
            #expect(noSecret.errorCode == "invalid_client")
            let both = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials", "client_secret": secret], headers: basic("svc", secret))
            #expect(both.status == .badRequest)
            #expect(both.errorCode == "invalid_request")
        }
    }

    @Test("grant checks: missing or unsupported grant_type, a grant the client lacks, a public client for client_credentials")
    func grantChecks() async throws {
        let server = try await TestServer()
        let secret = try #require(try await server.registerClient("svc", grants: [.clientCredentials], scope: "x"))
        try await server.registerClient("spa", confidential: false, grants: [.clientCredentials, .refreshToken], scope: "x")
        try await server.test { client in
            let missing = try await client.postForm("/oauth2/token", [:], headers: basic("svc", secret))
            #expect(missing.errorCode == "invalid_request")
            let unsupported = try await client.postForm("/oauth2/token", ["grant_type": "urn:ietf:params:oauth:grant-type:device_code"], headers: basic("svc", secret))
            #expect(unsupported.errorCode == "unsupported_grant_type")
            let notRegistered = try await client.postForm("/oauth2/token", ["grant_type": "password", "username": "a@example.com", "password": "x"], headers: basic("svc", secret))
            #expect(notRegistered.errorCode == "unauthorized_client")
            let publicClient = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials", "client_id": "spa"])
            #expect(publicClient.errorCode == "unauthorized_client")
        }
    }

    @Test("bad requests: a JSON body, a repeated parameter")
    func badRequests() async throws {
        let server = try await TestServer()
        let secret = try #require(try await server.registerClient("svc", grants: [.clientCredentials], scope: "x"))
        try await server.test { client in
            let json = try await client.post("/oauth2/token", json: ["grant_type": "client_credentials"], headers: basic("svc", secret))
            #expect(json.status == .badRequest)
            #expect(json.errorCode == "invalid_request")
            let repeated = try await client.post("/oauth2/token", raw: "grant_type=client_credentials&grant_type=password", contentType: "application/x-www-form-urlencoded", headers: basic("svc", secret))
            #expect(repeated.errorCode == "invalid_request")
        }
    }

    @Test("password grant for a client registered for it, with a refresh token the client can rotate, and only that client")
    func passwordAndRefresh() async throws {
        let server = try await TestServer()
        let secret = try #require(try await server.registerClient("cli", grants: [.password, .refreshToken], scope: "openid email api", audience: "https://api.example.test"))
        let other = try #require(try await server.registerClient("other", grants: [.refreshToken], scope: "openid"))
        try await server.test { client in
            _ = try await client.signUp("uma@example.com")
            let wrong = try await client.postForm("/oauth2/token", ["grant_type": "password", "username": "uma@example.com", "password": "nope nope nope"], headers: basic("cli", secret))
            #expect(wrong.status == .badRequest)
            #expect(wrong.errorCode == "invalid_grant")
            let response = try await client.postForm("/oauth2/token", ["grant_type": "password", "username": "uma@example.com", "password": "correct horse battery", "scope": "openid api"], headers: basic("cli", secret))
            #expect(response.status == .ok)
            let access = claims(of: try #require(response.json["access_token"] as? String))
            #expect(access["aud"] as? String == "https://api.example.test")
            #expect(access["client_id"] as? String == "cli")
            #expect(claims(of: try #require(response.json["id_token"] as? String))["aud"] as? String == "cli")
            let refresh = try #require(response.json["refresh_token"] as? String)

            let stolen = try await client.postForm("/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh], headers: basic("other", other))
            #expect(stolen.errorCode == "invalid_grant")
            let widened = try await client.postForm("/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh, "scope": "openid api email"], headers: basic("cli", secret))
            #expect(widened.errorCode == "invalid_scope")
            let rotated = try await client.postForm("/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh, "scope": "api"], headers: basic("cli", secret))
            #expect(rotated.status == .ok)
            #expect(claims(of: try #require(rotated.json["access_token"] as? String))["scope"] as? String == "api")
            let reuse = try await client.postForm("/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh], headers: basic("cli", secret))
            #expect(reuse.status == .badRequest)
            #expect(reuse.errorCode == "invalid_grant")
        }
    }

    @Test("a client's own token lifetime applies to its access and ID tokens")
    func perClientLifetime() async throws {
        let server = try await TestServer()
        let secret = try #require(try await server.registerClient("short", grants: [.clientCredentials, .password], scope: "openid x", accessTokenTTL: 300))
        try await server.test { client in
            _ = try await client.signUp("zed@example.com")
            let machine = try await client.postForm("/oauth2/token", ["grant_type": "client_credentials"], headers: basic("short", secret))
            #expect(machine.json["expires_in"] as? Int == 300)
            let user = try await client.postForm("/oauth2/token", ["grant_type": "password", "username": "zed@example.com", "password": "correct horse battery"], headers: basic("short", secret))
            #expect(user.json["expires_in"] as? Int == 300)
            let access = claims(of: try #require(user.json["access_token"] as? String))
            #expect((access["exp"] as? Int).map { $0 - (access["iat"] as? Int ?? 0) } == 300)
        }
    }

    @Test("/v1/login accepts a client registered for the password grant and refuses others")
    func firstPartyLoginWithClient() async throws {
        let server = try await TestServer()
        try await server.registerClient("mobile", confidential: false, grants: [.password, .refreshToken], scope: "openid offline_access")
        try await server.registerClient("backend", grants: [.clientCredentials], scope: "x")
        try await server.test { client in
            _ = try await client.signUp("val@example.com")
            let ok = try await client.login("val@example.com", extra: ["client_id": "mobile"])
            #expect(ok.status == .ok)
            #expect(claims(of: try #require(ok.json["access_token"] as? String))["client_id"] as? String == "mobile")
            let refused = try await client.login("val@example.com", extra: ["client_id": "backend"])
            #expect(refused.status == .badRequest)
            #expect(refused.errorCode == "invalid_client")
        }
    }
}

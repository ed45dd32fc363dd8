import Foundation
import TesseraCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCrypto

@Suite("Discovery and JWKS")
struct WellKnownTests {
    @Test("both discovery paths give the issuer and a jwks_uri under it", arguments: ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"])
    func discovery(path: String) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.execute(uri: path, method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.cacheControl]?.hasPrefix("public, max-age=") == true)
            #expect(response.json["issuer"] as? String == "https://id.example.test")
            #expect(response.json["jwks_uri"] as? String == "https://id.example.test/.well-known/jwks.json")
        }
    }

    @Test("discovery is truthful: every endpoint it lists is served, and it lists the grants, methods and algorithms that work")
    func truthful() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let document = try await client.execute(uri: "/.well-known/openid-configuration", method: .get).json
            for key in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"] {
                let url = try #require(document[key] as? String, "\(key)")
                #expect(url.hasPrefix("https://id.example.test/"))
                let path = String(url.dropFirst("https://id.example.test".count))
                let method: HTTPRequest.Method = ["token_endpoint", "revocation_endpoint", "introspection_endpoint"].contains(key) ? .post : .get
                let response = try await client.execute(uri: path, method: method)
                #expect(response.status != .notFound && response.status != .methodNotAllowed, "\(key)")
            }
            #expect(document["response_types_supported"] as? [String] == ["code"])
            #expect(Set(document["grant_types_supported"] as? [String] ?? []) == ["authorization_code", "refresh_token", "client_credentials", "password"])
            #expect(document["code_challenge_methods_supported"] as? [String] == ["S256"])
            #expect(document["id_token_signing_alg_values_supported"] as? [String] == ["RS256"])
            #expect(Set(document["token_endpoint_auth_methods_supported"] as? [String] ?? []) == ["client_secret_basic", "client_secret_post", "none"])
            #expect(document["subject_types_supported"] as? [String] == ["public"])
        }
    }

    @Test("the JWKS publishes the active key with its fields, cacheable, with an ETag honoured by If-None-Match")
    func jwks() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.execute(uri: "/.well-known/jwks.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "public, max-age=300")
            let set = try JSONDecoder().decode(JWKSet.self, from: response.data)
            #expect(set.keys.count == 1)
            #expect(set.keys.first?.kid == server.keys.activeKid)
            #expect(set.keys.first?.alg == "RS256")
            #expect(set.keys.first?.use == "sig")
            let etag = try #require(response.headers[.eTag])
            let again = try await client.execute(uri: "/.well-known/jwks.json", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            #expect(again.body.readableBytes == 0)
            let stale = try await client.execute(uri: "/.well-known/jwks.json", method: .get, headers: [.ifNoneMatch: "\"stale\""])
            #expect(stale.status == .ok)
        }
    }

    @Test("a token signed by the server's key ring verifies against the published JWKS")
    func signedTokenVerifiesAgainstJWKS() async throws {
        let server = try await TestServer()
        struct Claims: Encodable { let iss: String; let sub: String }
        let token = try server.keys.sign(Claims(iss: "https://id.example.test", sub: "x"), type: "JWT")
        try await server.test { client in
            let response = try await client.execute(uri: "/.well-known/jwks.json", method: .get)
            let set = try JSONDecoder().decode(JWKSet.self, from: response.data)
            let parts = token.split(separator: ".")
            let header = try JSONSerialization.jsonObject(with: Base64URL.decode(parts[0])!) as? [String: String]
            let jwk = try #require(set.keys.first { $0.kid == header?["kid"] })
            let key = try RSAPublicKey(jwk: jwk)
            #expect(key.verifyRS256(signature: Array(Base64URL.decode(parts[2])!), message: Array((parts[0] + "." + parts[1]).utf8)))
        }
    }
}

@Suite("Health, errors and methods")
struct HealthAndErrorTests {
    @Test("healthz is alive and readyz reports the database and the key")
    func health() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(health.json["status"] as? String == "ok")
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json["status"] as? String == "ready")
            #expect(ready.json["checks"] as? [String: String] == ["database": "ok", "signing_key": "ok"])
        }
    }

    @Test("an unknown path is a JSON 404")
    func notFound() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.execute(uri: "/no/such/thing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.json["error"] as? String == "not_found")
            #expect(response.json["error_description"] is String)
        }
    }

    @Test("a wrong method is a JSON 405 with Allow; HEAD works where GET does")
    func methodNotAllowed() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.execute(uri: "/.well-known/jwks.json", method: .post, body: ByteBuffer(string: "{}"))
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow]?.contains("GET") == true)
            #expect(response.json["error"] as? String == "method_not_allowed")
            let head = try await client.execute(uri: "/healthz", method: .head)
            #expect(head.status == .ok)
        }
    }
}

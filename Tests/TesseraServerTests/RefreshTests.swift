import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraServer
import TesseraSQLite

@Suite("Refresh rotation, reuse detection and logout")
struct RefreshTests {
    /// Signs up and logs in; returns the login response's JSON.
    func loggedIn(_ client: any TestClientProtocol, _ email: String = "kim@example.com") async throws -> [String: Any] {
        _ = try await client.signUp(email)
        let login = try await client.login(email)
        #expect(login.status == .ok)
        return login.json
    }

    @Test("a refresh rotates: a new refresh token, a new access token, the cookie replaced")
    func rotation() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let first = try #require(try await loggedIn(client)["refresh_token"] as? String)
            let response = try await client.refresh(first)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let second = try #require(response.json["refresh_token"] as? String)
            #expect(second != first)
            #expect(response.headers[.setCookie]?.hasPrefix("tessera_refresh=\(second);") == true)
            #expect(response.json["expires_in"] as? Int == 900)
            #expect(response.json["access_token"] is String)
            #expect(try await client.refresh(second).status == .ok)
        }
    }

    @Test("reusing a rotated token revokes the whole family: the newest token dies too")
    func reuseRevokesFamily() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let first = try #require(try await loggedIn(client)["refresh_token"] as? String)
            let second = try #require(try await client.refresh(first).json["refresh_token"] as? String)
            let reuse = try await client.refresh(first)
            #expect(reuse.status == .unauthorized)
            #expect(reuse.errorCode == "invalid_grant")
            let afterReuse = try await client.refresh(second)
            #expect(afterReuse.status == .unauthorized)
            #expect(afterReuse.errorCode == "invalid_grant")
        }
    }

    @Test("twenty concurrent refreshes of one token: exactly one succeeds")
    func concurrentRefreshes() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try #require(try await loggedIn(client)["refresh_token"] as? String)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await client.refresh(token).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .unauthorized }.count == 19)
        }
    }

    @Test("the cookie alone refreshes")
    func cookieRefresh() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try #require(try await loggedIn(client)["refresh_token"] as? String)
            let response = try await client.execute(uri: "/v1/token/refresh", method: .post, headers: [.cookie: "tessera_refresh=\(token)"])
            #expect(response.status == .ok)
            #expect(response.json["refresh_token"] as? String != token)
        }
    }

    @Test("the family's lifetime is absolute: rotation does not extend it")
    func absoluteLifetime() async throws {
        let server = try await TestServer { $0.refreshTokenTTL = 100 }
        try await server.test { client in
            let first = try #require(try await loggedIn(client)["refresh_token"] as? String)
            server.clock.advance(by: 60)
            let second = try await client.refresh(first)
            #expect(second.status == .ok)
            #expect(second.headers[.setCookie]?.contains("Max-Age=40;") == true)
            server.clock.advance(by: 41)
            let expired = try await client.refresh(try #require(second.json["refresh_token"] as? String))
            #expect(expired.status == .unauthorized)
            #expect(expired.errorCode == "invalid_grant")
        }
    }

    @Test("unknown, malformed and missing tokens are 401 invalid_grant", arguments: [
        "tsr_" + String(repeating: "A", count: 43), "tsr_short", "not-a-token", "",
    ])
    func invalidTokens(token: String) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.refresh(token)
            #expect(response.status == .unauthorized)
            #expect(response.errorCode == "invalid_grant")
            let none = try await client.execute(uri: "/v1/token/refresh", method: .post)
            #expect(none.status == .unauthorized)
            #expect(none.errorCode == "invalid_grant")
        }
    }

    @Test("a disabled user's refresh token stops working")
    func disabledUser() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try #require(try await loggedIn(client)["refresh_token"] as? String)
            try await server.storage.setStatus(email: "kim@example.com", "disabled")
            #expect(try await client.refresh(token).status == .unauthorized)
        }
    }

    @Test("logout revokes the family and clears the cookie; it is idempotent")
    func logout() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let first = try #require(try await loggedIn(client)["refresh_token"] as? String)
            let second = try #require(try await client.refresh(first).json["refresh_token"] as? String)
            let response = try await client.post("/v1/logout", json: ["refresh_token": second])
            #expect(response.status == .noContent)
            #expect(response.headers[.setCookie]?.hasPrefix("tessera_refresh=;") == true)
            #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await client.refresh(second).status == .unauthorized)
            #expect(try await client.post("/v1/logout", json: ["refresh_token": second]).status == .noContent)
            #expect(try await client.execute(uri: "/v1/logout", method: .post).status == .noContent)
            #expect(try await client.post("/v1/logout", json: ["refresh_token": "junk"]).status == .noContent)
        }
    }

    @Test("logout by cookie")
    func logoutByCookie() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try #require(try await loggedIn(client)["refresh_token"] as? String)
            let response = try await client.execute(uri: "/v1/logout", method: .post, headers: [.cookie: "tessera_refresh=\(token)"])
            #expect(response.status == .noContent)
            #expect(try await client.refresh(token).status == .unauthorized)
        }
    }

    @Test("only the SHA-256 of a refresh token is stored")
    func onlyHashStored() async throws {
        let server = try await TestServer()
        let token = try await server.test { client in try #require(try await loggedIn(client)["refresh_token"] as? String) }
        let data = try Data(contentsOf: URL(fileURLWithPath: server.settings.database))
            + ((try? Data(contentsOf: URL(fileURLWithPath: server.settings.database + "-wal"))) ?? Data())
        #expect(data.range(of: Data(token.utf8)) == nil)
        #expect(data.range(of: Data(token.dropFirst(4).utf8)) == nil)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraServer
import TesseraSQLite

@Suite("POST /v1/signup")
struct SignUpTests {
    @Test("creates an active user, keeping the email's case for display")
    func created() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.signUp("Alice.Smith@Example.COM", attributes: ["name": "Alice"])
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.json["email"] as? String == "Alice.Smith@Example.COM")
            #expect(response.json["status"] as? String == "active")
            let id = try #require(response.json["user_id"] as? String)
            let user = try #require(try await server.storage.user(email: "alice.smith@example.com"))
            #expect(user.id == id)
            #expect(user.attributes == ["name": "Alice"])
            #expect(user.passwordHash?.hasPrefix("tessera-v2:$2b$10$") == true)
        }
    }

    @Test("the same address in another case is taken: 409 email_taken")
    func caseInsensitiveUniqueness() async throws {
        let server = try await TestServer()
        try await server.test { client in
            #expect(try await client.signUp("A@x.io").status == .created)
            let again = try await client.signUp("a@X.IO")
            #expect(again.status == .conflict)
            #expect(again.errorCode == "email_taken")
        }
    }

    @Test("concurrent sign-ups with one address give exactly one 201, the rest 409")
    func concurrentSignUps() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<8 {
                    group.addTask { try await client.signUp(index % 2 == 0 ? "race@example.com" : "RACE@example.com").status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 7)
        }
    }

    @Test("invalid addresses are 400 invalid_email", arguments: [
        "", "plain", "@example.com", "a@", "a@b", "a b@example.com", "a@@example.com", ".a@example.com",
        "a..b@example.com", "a@-example.com", "a@example.123", "ä@example.com", String(repeating: "a", count: 65) + "@example.com",
        "a@" + String(repeating: "b", count: 250) + ".com",
    ])
    func invalidEmail(email: String) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.signUp(email)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_email")
        }
    }

    @Test("weak passwords are 400 weak_password", arguments: ["short", "seven77", "password123", "PASSWORD", "12345678", "tab\tinside!", String(repeating: "x", count: 1025)])
    func weakPassword(password: String) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.signUp("user@example.com", password)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "weak_password")
            #expect(try await server.storage.user(email: "user@example.com") == nil)
        }
    }

    @Test("passwords over 72 bytes are not truncated: two sharing their first 72 bytes differ")
    func longPasswords() async throws {
        let server = try await TestServer()
        let prefix = String(repeating: "long passphrase ", count: 5) // 80 bytes
        let first = prefix + "ending one"
        let second = prefix + "ending two"
        #expect(Array(first.utf8).prefix(72) == Array(second.utf8).prefix(72))
        try await server.test { client in
            let signUp = try await client.signUp("long@example.com", first)
            let withSecond = try await client.login("long@example.com", second)
            let withFirst = try await client.login("long@example.com", first)
            #expect(signUp.status == .created)
            #expect(withSecond.status == .unauthorized)
            #expect(withFirst.status == .ok)
        }
    }

    @Test("bad input is 400 invalid_request (413 when too large) and stores nothing", arguments: [
        ("{\"email\": \"bad@example.com\", ", "application/json", HTTPResponse.Status.badRequest),
        ("{\"email\":\"bad@example.com\",\"password\":\"correct horse battery\"}", "text/plain", .badRequest),
        ("{\"email\":\"bad@example.com\",\"password\":\"correct horse battery\",\"admin\":true}", "application/json", .badRequest),
        ("{\"email\":\"bad@example.com\"}", "application/json", .badRequest),
        ("{\"email\":\"bad@example.com\",\"password\":12345678}", "application/json", .badRequest),
        ("{\"email\":\"bad@example.com\",\"password\":\"correct horse battery\",\"attributes\":{\"a\":1}}", "application/json", .badRequest),
        ("[\"bad@example.com\"]", "application/json", .badRequest),
        ("{\"email\":\"bad@example.com\",\"password\":\"correct horse battery\",\"email\":\"other@example.com\"}", "application/json", .badRequest),
        ("", "application/json", .badRequest),
        ("{\"email\":\"bad@example.com\",\"password\":\"correct horse battery\",\"attributes\":{\"pad\":\"" + String(repeating: "x", count: 70_000) + "\"}}", "application/json", .contentTooLarge),
    ])
    func badInput(body: String, contentType: String, status: HTTPResponse.Status) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.post("/v1/signup", raw: body, contentType: contentType)
            #expect(response.status == status)
            #expect(response.errorCode == "invalid_request")
            #expect(response.json["error_description"] is String)
            #expect(try await server.storage.user(email: "bad@example.com") == nil)
        }
    }

    @Test("Content-Type is matched case-insensitively with parameters ignored, and nothing looser", arguments: [
        ("Application/JSON; charset=utf-8", HTTPResponse.Status.created), ("application/json ;charset=UTF-8", .created),
        ("application/jsonx", .badRequest), ("application/json-patch+json", .badRequest), ("text/json", .badRequest),
    ])
    func contentTypes(contentType: String, status: HTTPResponse.Status) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.post("/v1/signup", raw: #"{"email":"ct@example.com","password":"correct horse battery"}"#, contentType: contentType)
            #expect(response.status == status)
        }
    }

    @Test("a body that is not UTF-8 is 400 invalid_request")
    func invalidUTF8() async throws {
        let server = try await TestServer()
        try await server.test { client in
            var buffer = ByteBuffer(string: "{\"email\":\"x@example.com\",\"password\":\"pass")
            buffer.writeBytes([0xFF, 0xFE])
            buffer.writeString("word123\"}")
            let response = try await client.execute(uri: "/v1/signup", method: .post, headers: [.contentType: "application/json"], body: buffer)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_request")
        }
    }

    @Test("too many or oversized attributes are refused", arguments: [
        Dictionary(uniqueKeysWithValues: (0..<51).map { ("k\($0)", "v") }),
        ["name": String(repeating: "v", count: 2049)],
        [String(repeating: "k", count: 65): "v"],
    ])
    func attributeBounds(attributes: [String: String]) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let response = try await client.signUp("attrs@example.com", attributes: attributes)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_request")
        }
    }

    @Test("when the bcrypt pool is full the answer is 503 with Retry-After")
    func poolFull() async throws {
        let server = try await TestServer(hasher: BcryptPasswordHasher(capacity: 0))
        try await server.test { client in
            let response = try await client.signUp("busy@example.com")
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "1")
            #expect(try await server.storage.user(email: "busy@example.com") == nil)
        }
    }
}

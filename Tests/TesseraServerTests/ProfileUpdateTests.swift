import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraServer
import TesseraSQLite

/// `PATCH /v1/me` (contract §8.3): a JSON merge of the attributes under `If-Match`, against the
/// strong `ETag` of `GET /v1/me`.
@Suite("Profile updates with ETags")
struct ProfileUpdateTests {
    /// Signs up `email` and logs in; returns the access token.
    func signedIn(_ client: any TestClientProtocol, _ email: String = "pat@example.com", attributes: [String: String]? = ["name": "Pat"]) async throws -> String {
        _ = try await client.signUp(email, attributes: attributes)
        return try #require(try await client.login(email).json["access_token"] as? String)
    }

    func patch(_ client: any TestClientProtocol, _ token: String, ifMatch: String?, _ body: String) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        if let ifMatch { headers[.ifMatch] = ifMatch }
        return try await client.execute(uri: "/v1/me", method: .patch, headers: headers, body: ByteBuffer(string: body))
    }

    @Test("GET /v1/me carries a strong ETag; a PATCH with it merges (null removes a name) and answers the new profile and ETag")
    func mergeUnderIfMatch() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try await signedIn(client, attributes: ["name": "Pat", "plan": "free"])
            let me = try await client.me(token)
            let etag = try #require(me.headers[.eTag])
            #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
            #expect(try await client.me(token).headers[.eTag] == etag, "stable while nothing changes")
            let updated = try await patch(client, token, ifMatch: etag, #"{"attributes":{"name":"Patricia","plan":null,"locale":"en"}}"#)
            #expect(updated.status == .ok)
            #expect(updated.json["attributes"] as? [String: String] == ["name": "Patricia", "locale": "en"])
            let next = try #require(updated.headers[.eTag])
            #expect(next != etag)
            #expect(try await client.me(token).headers[.eTag] == next)
            #expect(try await server.storage.user(email: "pat@example.com")?.attributes == ["name": "Patricia", "locale": "en"])
            let same = try await patch(client, token, ifMatch: next, #"{"attributes":{"name":"Patricia"}}"#)
            #expect(same.status == .ok)
            #expect(same.headers[.eTag] == next, "a write that changes nothing keeps the representation, and its tag")
        }
    }

    @Test("without If-Match 428; with a stale, weak or unknown tag 412 carrying the current ETag; nothing changes")
    func preconditions() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try await signedIn(client)
            let etag = try #require(try await client.me(token).headers[.eTag])
            let missing = try await patch(client, token, ifMatch: nil, #"{"attributes":{"name":"X"}}"#)
            #expect(missing.status == .preconditionRequired)
            #expect(missing.errorCode == "precondition_required")
            for stale in ["W/\(etag)", "\"v999\"", "\"other\", W/\(etag)"] {
                let refused = try await patch(client, token, ifMatch: stale, #"{"attributes":{"name":"X"}}"#)
                #expect(refused.status == .preconditionFailed, "\(stale)")
                #expect(refused.errorCode == "precondition_failed")
                #expect(refused.headers[.eTag] == etag)
            }
            let malformed = try await patch(client, token, ifMatch: "v1", #"{"attributes":{"name":"X"}}"#)
            #expect(malformed.status == .badRequest)
            #expect(try await server.storage.user(email: "pat@example.com")?.attributes == ["name": "Pat"])
            // A list holding the current tag, and `*`, hold.
            #expect(try await patch(client, token, ifMatch: "\"v999\", \(etag)", #"{"attributes":{"name":"A"}}"#).status == .ok)
            #expect(try await patch(client, token, ifMatch: "*", #"{"attributes":{"name":"B"}}"#).status == .ok)
        }
    }

    @Test("bad bodies and attributes beyond the bounds are 400 invalid_request and change nothing", arguments: [
        #"{"attributes":{"name":1}}"#, #"{"attributes":"x"}"#, #"{}"#, #"{"attributes":{},"email":"x@example.com"}"#,
        #"{"attributes":{"":"empty name"}}"#, "{\"attributes\":{\"bio\":\"\(String(repeating: "x", count: 2049))\"}}", "not json",
    ])
    func badBodies(body: String) async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try await signedIn(client)
            let etag = try #require(try await client.me(token).headers[.eTag])
            let response = try await patch(client, token, ifMatch: etag, body)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_request")
            #expect(try await client.me(token).headers[.eTag] == etag)
        }
    }

    @Test("a change made elsewhere (the admin disabling and enabling the user) moves the ETag, so an update read before it fails")
    func changesElsewhereMoveTheTag() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try await signedIn(client)
            let etag = try #require(try await client.me(token).headers[.eTag])
            try await server.storage.setStatus(email: "pat@example.com", "unconfirmed")
            try await server.storage.setStatus(email: "pat@example.com", "active")
            let stale = try await patch(client, token, ifMatch: etag, #"{"attributes":{"name":"X"}}"#)
            #expect(stale.status == .preconditionFailed)
            #expect(stale.headers[.eTag] != etag)
        }
    }

    @Test("of concurrent updates read from one version, exactly one wins, many times over")
    func oneWinner() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try await signedIn(client)
            for round in 0..<20 {
                let etag = try #require(try await client.me(token).headers[.eTag])
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for writer in 0..<8 {
                        // Every write changes the profile (a write that changes nothing keeps the
                        // version, and so the tag: the representation the others read is still current).
                        group.addTask { try await patch(client, token, ifMatch: etag, #"{"attributes":{"name":"r\#(round)w\#(writer)"}}"#).status }
                    }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .ok }.count == 1, "round \(round): \(statuses)")
                #expect(statuses.filter { $0 == .preconditionFailed }.count == 7, "round \(round)")
            }
        }
    }

    @Test("GET /v1/me with If-None-Match naming the current tag (weak comparison) is 304 without a body; another tag gets the profile")
    func conditionalGet() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let token = try await signedIn(client)
            let etag = try #require(try await client.me(token).headers[.eTag])
            for condition in [etag, "W/\(etag)", "\"x\", \(etag)", "*"] {
                let response = try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(token)", .ifNoneMatch: condition])
                #expect(response.status == .notModified, "\(condition)")
                #expect(response.headers[.eTag] == etag && response.body.readableBytes == 0)
            }
            let other = try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(token)", .ifNoneMatch: "\"v999\""])
            #expect(other.status == .ok && other.json["email"] as? String == "pat@example.com")
            let malformed = try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(token)", .ifNoneMatch: "v1"])
            #expect(malformed.status == .badRequest)
        }
    }

    @Test("PATCH /v1/me needs the account scope, like GET")
    func needsAccountScope() async throws {
        let server = try await TestServer()
        try await server.test { client in
            _ = try await client.signUp("pat@example.com")
            let response = try await patch(client, "not-a-token", ifMatch: "*", #"{"attributes":{}}"#)
            #expect(response.status == .unauthorized)
        }
    }
}

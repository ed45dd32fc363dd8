import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TesseraCore
import TesseraSQLite

/// The event log (contract §9.1, §9.2) through the stores that write it and the pull API.
@Suite("Event log")
struct EventLogTests {
    func events(_ storage: SQLiteStorage, _ query: EventQuery = EventQuery(limit: 500)) async throws -> [StoredEvent] {
        guard case .events(let events, _) = try await storage.events(query) else {
            Issue.record("cursor expired")
            return []
        }
        return events
    }

    @Test("a change that fails leaves no event and frees its numbers: positions and sequences stay without gaps")
    func rollback() async throws {
        let server = try await TestServer { $0.signUpIPRate = 0 }
        try await server.test { client in
            let statuses = [
                try await client.signUp("a@example.com").status, try await client.signUp("A@example.com").status,
                try await client.signUp("b@example.com").status,
            ]
            #expect(statuses == [.created, .conflict, .created])
        }
        let logged = try await events(server.storage)
        #expect(logged.map(\.type) == [.userCreated, .userCreated])
        #expect(logged.map(\.position) == [1, 2])
        #expect(logged.map(\.sequence) == [1, 1])
    }

    @Test("concurrent changes of one user: the user's sequence is 1, 2, 3… in position order, without gaps (5 rounds of 24)")
    func concurrentSequence() async throws {
        let server = try await TestServer()
        let now = server.clock.now
        for round in 0..<5 {
            let user = User(
                id: "u\(round)", email: "u\(round)@example.com", emailVerified: false, passwordHash: nil, status: .active, attributes: [:],
                createdAt: now, updatedAt: now)
            try await server.storage.createUser(user, postSignUpHooks: [], verification: nil, now: now)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        if index % 3 == 0 {
                            try await server.storage.revokeAllTokens(userID: user.id, now: now)
                        } else {
                            _ = try await server.storage.updateAttributes(userID: user.id, now: now) { current in
                                var attributes = current.attributes
                                attributes["n"] = "\(index)"
                                return .replace(attributes)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let mine = try await events(server.storage, EventQuery(limit: 500, subject: user.id))
            #expect(mine.count == 25)
            #expect(mine.map(\.sequence) == (1...25).map(Int64.init))
            #expect(mine.map(\.position) == mine.map(\.position).sorted())
        }
    }

    @Test("after user.deleted every earlier event of the user keeps its ids and order but loses email, addresses and attributes")
    func redaction() async throws {
        let server = try await TestServer()
        let id = try await server.test { client in
            let id = try #require(try await client.signUp("gone@example.com", attributes: ["name": "Gone"]).json["user_id"] as? String)
            try await server.storage.setStatus(email: "gone@example.com", "disabled")
            return id
        }
        let before = try await events(server.storage)
        #expect(String(decoding: before[0].data, as: UTF8.self).contains("gone@example.com"))
        try await server.storage.deleteUser(id: id, farewell: nil, now: server.clock.now)
        let after = try await events(server.storage)
        #expect(after.map(\.id) == before.map(\.id) + [after.last!.id])
        #expect(after.map(\.type) == [.userCreated, .userDisabled, .sessionsRevoked, .userDeleted])
        for event in after {
            let data = try #require(try JSONSerialization.jsonObject(with: Data(event.data)) as? [String: Any])
            #expect(data["user_id"] as? String == id)
            for key in NewEvent.personalKeys { #expect(data[key] == nil, "\(key) in \(event.type)") }
        }
    }

    @Test("refresh-token reuse and the lock-out are events")
    func securityEvents() async throws {
        let server = try await TestServer { $0.loginMaxFailures = 3 }
        try await server.test { client in
            _ = try await client.signUp("sec@example.com")
            let first = try #require(try await client.login("sec@example.com").json["refresh_token"] as? String)
            #expect(try await client.refresh(first).status == .ok)
            #expect(try await client.refresh(first).status == .unauthorized)
            for _ in 0..<3 { _ = try await client.login("sec@example.com", "wrong password here") }
        }
        // The lock-out is recorded off the answer's path.
        var types: [EventType] = []
        for _ in 0..<100 {
            types = try await events(server.storage).map(\.type)
            if types.contains(.userLocked) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(types == [.userCreated, .refreshTokenReuseDetected, .userLocked])
        let reuse = try #require(try await events(server.storage).first { $0.type == .refreshTokenReuseDetected })
        let data = try #require(try JSONSerialization.jsonObject(with: Data(reuse.data)) as? [String: Any])
        #expect(data["client_id"] as? String == FirstPartyClient.id && data["family_id"] is String)
    }

    @Test("retention removes old events except those a pending delivery needs; a cursor before them answers 410 cursor_expired")
    func retention() async throws {
        let server = try await TestServer()
        _ = try await server.registerClient("reader", grants: [.clientCredentials], scope: "events:read")
        let secret = try #require(try await server.registerClient("reader2", grants: [.clientCredentials], scope: "events:read"))
        try await server.test { client in
            _ = try await client.signUp("old@example.com")
            server.clock.advance(by: 40 * 86400)
            _ = try await client.signUp("new@example.com")
            let swept = try await server.storage.sweepExpired(now: server.clock.now, eventRetention: 30 * 86400)
            #expect(swept.events == 1)
            let token = try #require(
                try await client.postForm("/oauth2/token", ["grant_type": "client_credentials"], headers: basic("reader2", secret)).json["access_token"] as? String)
            let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
            let expired = try await client.execute(uri: "/v1/events?after=0", method: .get, headers: bearer)
            #expect(expired.status == .gone && expired.errorCode == "cursor_expired")
            let fromOldest = try await client.execute(uri: "/v1/events", method: .get, headers: bearer)
            #expect(fromOldest.status == .ok)
            let data = try #require(fromOldest.json["data"] as? [[String: Any]])
            #expect(data.map { $0["position"] as? String } == ["2"])
            let empty = try await client.execute(uri: "/v1/events?after=2", method: .get, headers: bearer)
            #expect(empty.json["next_cursor"] as? String == "2" && (empty.json["data"] as? [Any])?.isEmpty == true)
        }
    }
}

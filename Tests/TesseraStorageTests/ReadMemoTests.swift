import Foundation
import GRDB
import Synchronization
import Testing
import TesseraCore
@testable import TesseraSQLite
import TesseraTestSupport

@Suite("Read memo: answers kept only while the database is unchanged")
struct ReadMemoTests {
    let directory = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Counts the reads a memo really made.
    final class Reads: Sendable {
        private let count = Mutex(0)
        var made: Int { count.withLock { $0 } }
        func read(_ value: String) -> String {
            count.withLock { $0 += 1 }
            return value
        }
    }

    func storage() throws -> SQLiteStorage {
        let storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        try storage.migrate()
        return storage
    }

    /// A plain connection of its own to a migrated database: a write there is another
    /// process's commit.
    func otherConnection() throws -> DatabaseQueue {
        _ = try storage()
        let queue = try DatabaseQueue(path: directory.path("tessera.sqlite"))
        try queue.write { db in try db.execute(sql: "CREATE TABLE IF NOT EXISTS unrelated (x)") }
        return queue
    }

    func watch() throws -> ChangeWatch {
        try ChangeWatch(path: directory.path("tessera.sqlite"), busyTimeoutMilliseconds: 1000)
    }

    @Test("a repeated lookup reads once, across commits that change nothing it counts; a change to a client makes the next lookup read")
    func keptUntilCounterMoves() throws {
        let other = try otherConnection()
        let memo = ReadMemo<String, String>(watch: try watch(), counter: .clients, capacity: 10)
        let reads = Reads()
        for _ in 0..<3 { #expect(try memo.value(for: "k") { reads.read("first") } == "first") }
        try other.write { db in try db.execute(sql: "INSERT INTO unrelated VALUES (1)") }
        #expect(try memo.value(for: "k") { reads.read("unrelated") } == "first")
        #expect(reads.made == 1)
        try other.write { db in
            try db.execute(sql: """
                INSERT INTO clients (id, name, redirect_uris, post_logout_redirect_uris, grants, scope, source, created_at, updated_at)
                VALUES ('c', 'c', '[]', '[]', '[]', '', 'admin', 0, 0)
                """)
        }
        #expect(try memo.value(for: "k") { reads.read("second") } == "second")
        #expect(try memo.value(for: "k") { reads.read("third") } == "second")
        #expect(reads.made == 2)
    }

    @Test("a full memo starts over with the newest answer, and a failed read keeps nothing")
    func capacityAndFailures() throws {
        _ = try otherConnection()
        let memo = ReadMemo<String, String>(watch: try watch(), counter: .clients, capacity: 2)
        let reads = Reads()
        for key in ["a", "b", "a", "b"] { _ = try memo.value(for: key) { reads.read(key) } }
        #expect(reads.made == 2)
        _ = try memo.value(for: "c") { reads.read("c") }
        _ = try memo.value(for: "c") { reads.read("c") }
        #expect(reads.made == 3)
        _ = try memo.value(for: "a") { reads.read("a") }
        #expect(reads.made == 4)
        struct ReadFailed: Error {}
        #expect(throws: ReadFailed.self) { try memo.value(for: "d") { throw ReadFailed() } }
        #expect(try memo.value(for: "d") { reads.read("d") } == "d")
    }

    @Test("a memo on a database not yet migrated fails instead of answering")
    func unmigrated() throws {
        _ = try SQLiteStorage(path: directory.path("bare.sqlite"))
        let memo = ReadMemo<String, String>(
            watch: try ChangeWatch(path: directory.path("bare.sqlite"), busyTimeoutMilliseconds: 1000), counter: .clients, capacity: 1)
        #expect(throws: ChangeWatch.Failure.self) { try memo.value(for: "a") { "a" } }
    }

    func user(_ id: String) -> User {
        User(id: id, email: "\(id)@example.test", emailVerified: false, passwordHash: nil, status: .active, attributes: [:], createdAt: now, updatedAt: now)
    }

    @Test("a token's standing follows revocations made by another process at once (the admin CLI)")
    func standingSeesOtherProcess() async throws {
        let server = try storage()
        let cli = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        try await server.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        try await server.createClient(Client(id: "c1", name: "c1", secretHash: nil, grants: [.authorizationCode], scope: Scope([]), createdAt: now), now: now)
        let fresh = try await server.accessTokenStanding(jti: "j1", userID: "u1", clientID: "c1")
        #expect(!fresh.jtiRevoked && fresh.clientRegistered && fresh.user?.status == .active)
        #expect(try await server.accessTokenStanding(jti: "j1", userID: "u1", clientID: "c1") == fresh)

        try await cli.revokeAccessToken(jti: "j1", expiresAt: now + 900, now: now)
        #expect(try await server.accessTokenStanding(jti: "j1", userID: "u1", clientID: "c1").jtiRevoked)

        #expect(try await server.accessTokenStanding(jti: "j2", userID: "u1", clientID: "c1").user?.status == .active)
        try await cli.setStatus(userID: "u1", .disabled, now: now)
        #expect(try await server.accessTokenStanding(jti: "j2", userID: "u1", clientID: "c1").user?.status == .disabled)

        _ = try await cli.revokeClientTokens(clientID: "c1", now: now)
        #expect(try await server.accessTokenStanding(jti: "j2", userID: "u1", clientID: "c1").clientTokensNotBefore == now)
        _ = try await cli.revokeClientTokens(clientID: "c1", now: now + 60)
        #expect(try await server.accessTokenStanding(jti: "j2", userID: "u1", clientID: "c1").clientTokensNotBefore == now + 60)

        #expect(try await server.client(id: "c2") == nil)
        try await cli.createClient(Client(id: "c2", name: "c2", secretHash: nil, grants: [.authorizationCode], scope: Scope([]), createdAt: now), now: now)
        #expect(try await server.client(id: "c2")?.name == "c2")
        #expect(try await server.client(id: "c1") != nil)
        try await cli.deleteClient(id: "c1", now: now)
        #expect(try await server.client(id: "c1") == nil)
        let gone = try await server.accessTokenStanding(jti: "j2", userID: "u1", clientID: "c1")
        #expect(!gone.clientRegistered && gone.clientTokensNotBefore == now)
    }

    @Test("a token's standing follows the process's own writes at once")
    func standingSeesOwnWrites() async throws {
        let storage = try storage()
        #expect(try await storage.accessTokenStanding(jti: "j1", userID: "u1", clientID: "c1").user == nil)
        try await storage.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        #expect(try await storage.accessTokenStanding(jti: "j1", userID: "u1", clientID: "c1").user?.id == "u1")
        try await storage.revokeAllTokens(userID: "u1", now: now)
        #expect(try await storage.accessTokenStanding(jti: "j1", userID: "u1", clientID: "c1").user?.tokensNotBefore == now)
        try await storage.deleteUser(id: "u1", farewell: nil, now: now)
        #expect(try await storage.accessTokenStanding(jti: "j1", userID: "u1", clientID: "c1").user == nil)
    }
}

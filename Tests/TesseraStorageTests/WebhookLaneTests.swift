import Foundation
import Synchronization
import Testing
import TesseraCore
@testable import TesseraSQLite
import TesseraTestSupport

/// The delivery lanes of contract §9.3 at the store: one per (endpoint, user), only the head
/// ever claimed, each delivery claimed by one sender at a time.
@Suite("Webhook delivery lanes")
struct WebhookLaneTests {
    let directory = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func storage() throws -> SQLiteStorage {
        let storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        _ = try storage.migrate()
        return storage
    }

    func user(_ id: String) -> User {
        User(id: id, email: "\(id)@example.com", emailVerified: false, passwordHash: nil, status: .active, attributes: [:], createdAt: now, updatedAt: now)
    }

    func endpoint(_ storage: SQLiteStorage, _ id: String = "whe_1", types: [EventType]? = nil) async throws {
        try await storage.createEndpoint(
            WebhookEndpoint(id: id, url: "https://hooks.example.com/\(id)", description: nil, eventTypes: types, createdAt: now), secret: [1, 2, 3], now: now)
    }

    @Test("four senders draining 20 users × 6 events claim every delivery exactly once, each user's in sequence order (3 rounds)")
    func concurrentClaims() async throws {
        for round in 0..<3 {
            let storage = try SQLiteStorage(path: directory.path("race\(round).sqlite"))
            _ = try storage.migrate()
            try await endpoint(storage)
            for index in 0..<20 { try await storage.createUser(user("u\(index)"), postSignUpHooks: [], verification: nil, now: now) }
            for _ in 0..<5 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<20 {
                        group.addTask { try await storage.revokeAllTokens(userID: "u\(index)", now: now) }
                    }
                    try await group.waitForAll()
                }
            }
            let claimed = Claimed()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var idle = 0
                        while idle < 3 {
                            let claims = try await storage.claimDeliveries(limit: 7, leaseUntil: now + 60, now: now)
                            if claims.isEmpty {
                                idle += 1
                                try await Task.sleep(for: .milliseconds(5))
                                continue
                            }
                            idle = 0
                            for claim in claims {
                                claimed.add((claim.event.subject, claim.event.sequence, claim.deliveryID))
                                try await storage.finishDelivery(claim, result: .delivered(status: 204), disableAfter: 3600, now: now)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let all = claimed.all
            #expect(all.count == 120)
            #expect(Set(all.map(\.2)).count == 120, "no delivery claimed twice")
            for index in 0..<20 {
                #expect(all.filter { $0.0 == "u\(index)" }.map(\.1) == Array(1...6), "u\(index) in order")
            }
            #expect(try storage.rowCount("webhook_lanes") == 0)
        }
    }

    @Test("a failing head holds up its own lane only; a lease that runs out is claimed again")
    func failingHead() async throws {
        let storage = try storage()
        try await endpoint(storage)
        for id in ["a", "b"] {
            try await storage.createUser(user(id), postSignUpHooks: [], verification: nil, now: now)
            try await storage.revokeAllTokens(userID: id, now: now)
        }
        let heads = try await storage.claimDeliveries(limit: 10, leaseUntil: now + 30, now: now)
        #expect(heads.map(\.event.subject).sorted() == ["a", "b"] && heads.allSatisfy { $0.event.sequence == 1 })
        #expect(try await storage.claimDeliveries(limit: 10, leaseUntil: now + 30, now: now).isEmpty, "leased lanes are not claimed again")
        let a = try #require(heads.first { $0.event.subject == "a" })
        let b = try #require(heads.first { $0.event.subject == "b" })
        try await storage.finishDelivery(b, result: .delivered(status: 200), disableAfter: 3600, now: now)
        try await storage.finishDelivery(a, result: .retry(at: now + 100, status: 500, error: "HTTP 500"), disableAfter: 3600, now: now)
        let next = try await storage.claimDeliveries(limit: 10, leaseUntil: now + 30, now: now)
        #expect(next.map(\.event.subject) == ["b"] && next[0].event.sequence == 2, "b goes on; a's second event waits")
        #expect(try await storage.nextDeliveryDue() == now + 30, "b's lease ends first")
        let retried = try await storage.claimDeliveries(limit: 10, leaseUntil: now + 130, now: now + 100)
        #expect(retried.count == 2 && retried.contains { $0.event.subject == "a" && $0.event.sequence == 1 && $0.attempts == 1 })
        #expect(retried.contains { $0.event.subject == "b" && $0.event.sequence == 2 }, "b's expired lease is claimed again")
        #expect(try await storage.endpoint(id: "whe_1")?.failingSince == now, "a failure starts the endpoint's streak")
        try await storage.finishDelivery(retried[0], result: .delivered(status: 204), disableAfter: 3600, now: now + 100)
        #expect(try await storage.endpoint(id: "whe_1")?.failingSince == nil, "a success ends it")
    }

    @Test("finishing a delivery can lease the lane's next head at once; a retry or a disabled endpoint stops the lane")
    func continuation() async throws {
        let storage = try storage()
        try await endpoint(storage)
        try await storage.createUser(user("a"), postSignUpHooks: [], verification: nil, now: now)
        for _ in 0..<2 { try await storage.revokeAllTokens(userID: "a", now: now) }
        let first = try #require(try await storage.claimDeliveries(limit: 10, leaseUntil: now + 30, now: now).first)
        let second = try #require(
            try await storage.finishDelivery(first, result: .delivered(status: 204), disableAfter: 3600, now: now, leasingNextUntil: now + 30))
        #expect(second.event.sequence == 2 && second.event.subject == "a")
        #expect(try await storage.claimDeliveries(limit: 10, leaseUntil: now + 30, now: now).isEmpty, "the lane stays leased")
        let none = try await storage.finishDelivery(
            second, result: .retry(at: now + 50, status: 500, error: "HTTP 500"), disableAfter: 3600, now: now, leasingNextUntil: now + 30)
        #expect(none == nil)
        let again = try #require(try await storage.claimDeliveries(limit: 10, leaseUntil: now + 80, now: now + 50).first)
        #expect(again.deliveryID == second.deliveryID && again.attempts == 1)
        try await storage.setEndpointEnabled(id: "whe_1", enabled: false, reason: "test", now: now)
        let stopped = try await storage.finishDelivery(
            again, result: .delivered(status: 204), disableAfter: 3600, now: now + 50, leasingNextUntil: now + 80)
        #expect(stopped == nil, "nothing more goes to a disabled endpoint")
    }

    @Test("an endpoint failing for longer than disable_after is disabled once, with a webhook.endpoint.disabled event")
    func disableAfterStreak() async throws {
        let storage = try storage()
        try await endpoint(storage)
        try await storage.createUser(user("a"), postSignUpHooks: [], verification: nil, now: now)
        var time = now
        for _ in 0..<3 {
            let claims = try await storage.claimDeliveries(limit: 1, leaseUntil: time + 30, now: time)
            let claim = try #require(claims.first)
            try await storage.finishDelivery(claim, result: .retry(at: time + 60, status: nil, error: "timeout"), disableAfter: 100, now: time)
            time += 60
        }
        let endpoint = try #require(try await storage.endpoint(id: "whe_1"))
        #expect(!endpoint.enabled && endpoint.disabledReason?.contains("100 seconds") == true)
        guard case .events(let events, _) = try await storage.events(EventQuery()) else { throw CancellationError() }
        #expect(events.map(\.type) == [.userCreated, .webhookEndpointDisabled])
        #expect(try await storage.claimDeliveries(limit: 10, leaseUntil: time + 30, now: time + 1000).isEmpty, "a disabled endpoint gets nothing")
    }

    @Test("an endpoint gets only the types it asked for; webhook.test only when it is the one tested")
    func typeFilter() async throws {
        let storage = try storage()
        try await endpoint(storage, "whe_1", types: [.userDeleted])
        try await endpoint(storage, "whe_2")
        try await storage.createUser(user("a"), postSignUpHooks: [], verification: nil, now: now)
        let test = try await storage.queueTest(endpointID: "whe_1", leaseUntil: now + 30, now: now)
        #expect(test.claim?.deliveryID == test.deliveryID && test.claim?.event.type == .webhookTest, "leased to the caller at once")
        // The senders cannot take it while it is leased; the lease running out, they can.
        let claims = try await storage.claimDeliveries(limit: 10, leaseUntil: now + 30, now: now)
        #expect(claims.map { "\($0.endpointID) \($0.event.type.rawValue)" } == ["whe_2 user.created"])
        let later = try await storage.claimDeliveries(limit: 10, leaseUntil: now + 100, now: now + 31)
        #expect(later.filter { $0.endpointID == "whe_1" }.map(\.deliveryID) == [test.deliveryID])
        // A second test waits behind the first in the endpoint's test lane.
        let second = try await storage.queueTest(endpointID: "whe_1", leaseUntil: now + 130, now: now + 32)
        #expect(second.claim == nil)
    }
}

/// What the senders claimed, in order.
private final class Claimed: Sendable {
    private let list = Mutex<[(String, Int64, Int64)]>([])
    func add(_ entry: (String, Int64, Int64)) { list.withLock { $0.append(entry) } }
    var all: [(String, Int64, Int64)] { list.withLock { $0 } }
}

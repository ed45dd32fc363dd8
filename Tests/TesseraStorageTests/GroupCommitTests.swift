import Foundation
import GRDB
import Synchronization
import Testing
@testable import TesseraSQLite
import TesseraTestSupport

@Suite("Group commit")
struct GroupCommitTests {
    let directory = TemporaryDirectory()

    struct Refused: Error, Equatable {
        let number: Int
    }

    func storage() throws -> SQLiteStorage {
        let storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        try storage.pool.write { db in try db.execute(sql: "CREATE TABLE items (number INTEGER PRIMARY KEY)") }
        return storage
    }

    /// The numbers committed to `items`, in order.
    func storedNumbers(_ storage: SQLiteStorage) throws -> [Int] {
        try storage.readOnCallingThread { db in try Int.fetchAll(db, sql: "SELECT number FROM items ORDER BY number") }
    }

    /// Holds the writer with a write of 1 while `writes` start one after another, each queued
    /// before the next starts, so that they form the next group together, in this order; then
    /// lets go. Returns their tasks, once the held write committed.
    func queuedInOneGroup(_ storage: SQLiteStorage, _ writes: [@Sendable () async throws -> Void]) async throws -> [Task<Void, any Error>] {
        let release = DispatchSemaphore(value: 0)
        let holding = Flag()
        let first = Task {
            try await storage.write { db in
                try db.execute(sql: "INSERT INTO items (number) VALUES (1)")
                holding.raise()
                release.wait()
            }
        }
        try await waitUntil { holding.isRaised }
        var tasks: [Task<Void, any Error>] = []
        for (index, write) in writes.enumerated() {
            tasks.append(Task { try await write() })
            try await waitUntil { storage.writesWaiting == index + 1 }
        }
        release.signal()
        try await first.value
        return tasks
    }

    /// Polls `condition` until it holds, failing the test after 30 s.
    func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<3000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the condition never held")
    }

    /// A flag one thread raises and another polls.
    final class Flag: Sendable {
        private let raised = Mutex(false)
        func raise() { raised.withLock { $0 = true } }
        var isRaised: Bool { raised.withLock { $0 } }
    }

    /// Runs `body` while another connection (as another process would) holds the write lock,
    /// longer than the busy timeout lets a write wait.
    func whileAnotherConnectionHoldsTheWriteLock(_ body: () async throws -> Void) async throws {
        let blocker = try DatabaseQueue(path: directory.path("tessera.sqlite"))
        let holding = DispatchSemaphore(value: 0), letGo = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        Thread {
            try? blocker.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                holding.signal()
                letGo.wait()
                try db.execute(sql: "ROLLBACK")
            }
            done.signal()
        }.start()
        holding.wait()
        defer {
            letGo.signal()
            done.wait()
        }
        try await body()
    }

    @Test("concurrent writes each get their own result; one that throws is undone alone and its caller gets its error")
    func failuresStayTheirOwn() async throws {
        let storage = try storage()
        let outcomes = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for number in 0..<200 {
                group.addTask {
                    do {
                        return (number, .success(try await storage.write { db -> Int in
                            try db.execute(sql: "INSERT INTO items (number) VALUES (?)", arguments: [number])
                            // Every seventh write fails after it wrote: its row must not survive.
                            if number % 7 == 0 { throw Refused(number: number) }
                            return number * 2
                        }))
                    } catch {
                        return (number, .failure(error))
                    }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for (number, outcome) in outcomes {
            if number % 7 == 0 {
                #expect(throws: Refused(number: number)) { try outcome.get() }
            } else {
                #expect(try outcome.get() == number * 2)
            }
        }
        #expect(try storedNumbers(storage) == (0..<200).filter { $0 % 7 != 0 })
    }

    @Test("a write alone in its transaction (no savepoint) that throws after writing leaves nothing, and the next write commits")
    func loneFailureRollsBack() async throws {
        let storage = try storage()
        await #expect(throws: Refused(number: 1)) {
            try await storage.write { db in
                try db.execute(sql: "INSERT INTO items (number) VALUES (1)")
                throw Refused(number: 1)
            }
        }
        let written = try await storage.write { db -> Int in
            try db.execute(sql: "INSERT INTO items (number) VALUES (2)")
            return 2
        }
        #expect(written == 2)
        #expect(try storedNumbers(storage) == [2])
    }

    @Test("a write that breaks a constraint fails with SQLite's error and the others in its group commit")
    func constraintErrors() async throws {
        let storage = try storage()
        try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (1)") }
        let duplicate = Task { try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (1)") } }
        let fresh = Task { try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (2)") } }
        await #expect(throws: DatabaseError.self) { try await duplicate.value }
        try await fresh.value
        #expect(try storedNumbers(storage) == [1, 2])
    }

    @Test("when SQLite rolls a group's transaction back in one write, no write of the group runs outside it: all fail, none is written")
    func transactionLostMidGroup() async throws {
        let storage = try storage()
        let group = try await queuedInOneGroup(storage, [
            { try await storage.write { db in try db.execute(sql: "ROLLBACK") } },
            { try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (3)") } },
        ])
        await #expect(throws: (any Error).self) { try await group[0].value }
        await #expect(throws: (any Error).self) { try await group[1].value }
        #expect(try storedNumbers(storage) == [1])
    }

    @Test("when another connection holds the write lock past the busy timeout, the write fails with SQLite's error and nothing is written")
    func commitFailure() async throws {
        let storage = try storage()
        try await whileAnotherConnectionHoldsTheWriteLock {
            await #expect(throws: DatabaseError.self) {
                try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (3)") }
            }
        }
        let stored = try storedNumbers(storage)
        #expect(stored.isEmpty)
    }

    // MARK: Answers prepared while the group commits

    /// Records what a `prepare` closure saw, across tasks.
    final class Prepared: Sendable {
        private let values = Mutex<[Int]>([])
        func record(_ value: Int) { values.withLock { $0.append(value) } }
        var seen: [Int] { values.withLock { $0 } }
    }

    /// A staged write inserting `number`, whose `prepare` records the body's result.
    func stagedInsert(_ number: Int, into storage: SQLiteStorage, preparing prepared: Prepared) async throws -> Int {
        try await storage.write({ db -> Int in
            try db.execute(sql: "INSERT INTO items (number) VALUES (?)", arguments: [number])
            return number
        }, whileCommitting: { value -> Int in
            prepared.record(value)
            return value
        })
    }

    @Test("a staged write's answer, prepared from the body's result, is returned once the write is committed")
    func stagedAnswerAfterCommit() async throws {
        let storage = try storage()
        let answer = try await storage.write({ db -> Int in
            try db.execute(sql: "INSERT INTO items (number) VALUES (5)")
            return 5
        }, whileCommitting: { value in "prepared \(value)" })
        #expect(answer == "prepared 5")
        #expect(try storedNumbers(storage) == [5])
    }

    @Test("when the group's transaction is lost after a staged body ran, its prepared answer is withheld: the caller gets the error")
    func stagedAnswerWithheldWhenTransactionLost() async throws {
        let storage = try storage()
        let prepared = Prepared()
        // The staged write, then one that rolls the whole transaction back.
        let group = try await queuedInOneGroup(storage, [
            { _ = try await stagedInsert(2, into: storage, preparing: prepared) },
            { try await storage.write { db in try db.execute(sql: "ROLLBACK") } },
        ])
        await #expect(throws: TransactionLost.self) { try await group[0].value }
        await #expect(throws: (any Error).self) { try await group[1].value }
        #expect(prepared.seen == [2], "the answer was prepared before the commit, then withheld")
        #expect(try storedNumbers(storage) == [1])
    }

    @Test("an error of `prepare` reaches the caller after the body's writes are committed")
    func stagedPrepareErrorAfterCommit() async throws {
        let storage = try storage()
        await #expect(throws: Refused(number: 7)) {
            try await storage.write({ db in try db.execute(sql: "INSERT INTO items (number) VALUES (7)") },
                                   whileCommitting: { _ -> Int in throw Refused(number: 7) })
        }
        #expect(try storedNumbers(storage) == [7])
    }

    @Test("a staged write whose transaction cannot begin (another process holds the lock) fails without preparing anything")
    func stagedWriteThatNeverRan() async throws {
        let storage = try storage()
        let prepared = Prepared()
        try await whileAnotherConnectionHoldsTheWriteLock {
            await #expect(throws: DatabaseError.self) { try await stagedInsert(3, into: storage, preparing: prepared) }
        }
        #expect(prepared.seen.isEmpty)
    }
}

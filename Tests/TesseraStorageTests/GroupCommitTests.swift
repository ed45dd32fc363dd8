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
        let stored = try await storage.pool.read { db in try Int.fetchAll(db, sql: "SELECT number FROM items ORDER BY number") }
        #expect(stored == (0..<200).filter { $0 % 7 != 0 })
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
        let rows = try storage.readOnCallingThread { db in try Int.fetchAll(db, sql: "SELECT number FROM items") }
        #expect(rows == [2])
    }

    @Test("a write that breaks a constraint fails with SQLite's error and the others in its group commit")
    func constraintErrors() async throws {
        let storage = try storage()
        try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (1)") }
        let duplicate = Task { try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (1)") } }
        let fresh = Task { try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (2)") } }
        await #expect(throws: DatabaseError.self) { try await duplicate.value }
        try await fresh.value
        let stored = try await storage.pool.read { db in try Int.fetchAll(db, sql: "SELECT number FROM items ORDER BY number") }
        #expect(stored == [1, 2])
    }

    @Test("when SQLite rolls a group's transaction back in one write, no write of the group runs outside it: all fail, none is written")
    func transactionLostMidGroup() async throws {
        let storage = try storage()
        let release = DispatchSemaphore(value: 0)
        // A holds the writer so that B, then C, queue into the next group together.
        let first = Task {
            try await storage.write { db in
                try db.execute(sql: "INSERT INTO items (number) VALUES (1)")
                release.wait()
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let losing = Task { try await storage.write { db in try db.execute(sql: "ROLLBACK") } }
        try await Task.sleep(for: .milliseconds(100))
        let after = Task { try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (3)") } }
        try await Task.sleep(for: .milliseconds(100))
        release.signal()
        try await first.value
        await #expect(throws: (any Error).self) { try await losing.value }
        await #expect(throws: (any Error).self) { try await after.value }
        let stored = try storage.readOnCallingThread { db in try Int.fetchAll(db, sql: "SELECT number FROM items ORDER BY number") }
        #expect(stored == [1])
    }

    @Test("when another connection holds the write lock past the busy timeout, the write fails with SQLite's error and nothing is written")
    func commitFailure() async throws {
        let storage = try storage()
        // Another process holds the write lock until told to let go.
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
        await #expect(throws: DatabaseError.self) {
            try await storage.write { db in try db.execute(sql: "INSERT INTO items (number) VALUES (3)") }
        }
        letGo.signal()
        done.wait()
        let stored = try await storage.pool.read { db in try Int.fetchAll(db, sql: "SELECT number FROM items") }
        #expect(stored.isEmpty)
    }

    // MARK: Answers prepared while the group commits

    /// Records what a `prepare` closure saw, across tasks.
    final class Prepared: Sendable {
        private let values = Mutex<[Int]>([])
        func record(_ value: Int) { values.withLock { $0.append(value) } }
        var seen: [Int] { values.withLock { $0 } }
    }

    @Test("a staged write's answer, prepared from the body's result, is returned once the write is committed")
    func stagedAnswerAfterCommit() async throws {
        let storage = try storage()
        let answer = try await storage.write({ db -> Int in
            try db.execute(sql: "INSERT INTO items (number) VALUES (5)")
            return 5
        }, whileCommitting: { value in "prepared \(value)" })
        #expect(answer == "prepared 5")
        let stored = try storage.readOnCallingThread { db in try Int.fetchAll(db, sql: "SELECT number FROM items") }
        #expect(stored == [5])
    }

    @Test("when the group's transaction is lost after a staged body ran, its prepared answer is withheld: the caller gets the error")
    func stagedAnswerWithheldWhenTransactionLost() async throws {
        let storage = try storage()
        let prepared = Prepared()
        let release = DispatchSemaphore(value: 0)
        let first = Task {
            try await storage.write { db in
                try db.execute(sql: "INSERT INTO items (number) VALUES (1)")
                release.wait()
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        // B (staged) then C (rolls the whole transaction back) queue into the next group.
        let staged = Task {
            try await storage.write({ db -> Int in
                try db.execute(sql: "INSERT INTO items (number) VALUES (2)")
                return 2
            }, whileCommitting: { value -> Int in
                prepared.record(value)
                return value
            })
        }
        try await Task.sleep(for: .milliseconds(100))
        let losing = Task { try await storage.write { db in try db.execute(sql: "ROLLBACK") } }
        try await Task.sleep(for: .milliseconds(100))
        release.signal()
        try await first.value
        await #expect(throws: TransactionLost.self) { try await staged.value }
        await #expect(throws: (any Error).self) { try await losing.value }
        #expect(prepared.seen == [2], "the answer was prepared before the commit, then withheld")
        let stored = try storage.readOnCallingThread { db in try Int.fetchAll(db, sql: "SELECT number FROM items ORDER BY number") }
        #expect(stored == [1])
    }

    @Test("an error of `prepare` reaches the caller after the body's writes are committed")
    func stagedPrepareErrorAfterCommit() async throws {
        let storage = try storage()
        await #expect(throws: Refused(number: 7)) {
            try await storage.write({ db in try db.execute(sql: "INSERT INTO items (number) VALUES (7)") },
                                   whileCommitting: { _ -> Int in throw Refused(number: 7) })
        }
        let stored = try storage.readOnCallingThread { db in try Int.fetchAll(db, sql: "SELECT number FROM items") }
        #expect(stored == [7])
    }

    @Test("a staged write whose transaction cannot begin (another process holds the lock) fails without preparing anything")
    func stagedWriteThatNeverRan() async throws {
        let storage = try storage()
        let prepared = Prepared()
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
        await #expect(throws: DatabaseError.self) {
            try await storage.write({ db -> Int in
                try db.execute(sql: "INSERT INTO items (number) VALUES (3)")
                return 3
            }, whileCommitting: { value -> Int in
                prepared.record(value)
                return value
            })
        }
        letGo.signal()
        done.wait()
        #expect(prepared.seen.isEmpty)
    }
}

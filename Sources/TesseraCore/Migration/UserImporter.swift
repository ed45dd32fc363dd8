import Foundation

/// How many users an import created, updated, found unchanged, and could not import.
public struct ImportCounts: Sendable, Equatable {
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var failed = 0

    public init() {}

    public var processed: Int { created + updated + unchanged + failed }
}

/// One run of `tessera admin users import` (contract §11.7): checks each record, refuses a
/// second line for an address or an id seen earlier in the file, and stores the rest in
/// batches (``UserImportStore``), each user on its own, so a bad line never stops the others
/// and never leaves half a user. Reports each line not imported through `report`.
public final class UserImporter {
    let store: any UserImportStore
    let dryRun: Bool
    let crypto: any CryptoPrimitives
    let now: Now
    let batchSize: Int
    let report: (Int, String) -> Void
    public private(set) var counts = ImportCounts()
    private var pending: [(line: Int, user: ImportedUser)] = []
    /// The line each address (lowercased) and each id was first seen on.
    private var emailLines: [String: Int] = [:]
    private var idLines: [String: Int] = [:]

    /// - Parameters:
    ///   - report: told the line number and the reason of each record not imported.
    public init(
        store: any UserImportStore, dryRun: Bool, crypto: any CryptoPrimitives, now: @escaping Now, batchSize: Int = 500,
        report: @escaping (Int, String) -> Void
    ) {
        self.store = store
        self.dryRun = dryRun
        self.crypto = crypto
        self.now = now
        self.batchSize = batchSize
        self.report = report
    }

    /// Takes one record; stores a batch when one is full.
    public func add(_ numbered: NumberedRecord) async throws {
        let user: ImportedUser
        do throws(ImportProblem) {
            user = try numbered.record.get().checked { RandomIdentifier.make(using: crypto) }
        } catch {
            fail(numbered.line, error.message)
            return
        }
        let key = user.email.lowercased()
        if let first = emailLines[key] {
            fail(numbered.line, "email \(user.email) is already on line \(first)")
            return
        }
        if let first = idLines[user.id] {
            fail(numbered.line, "user_id \(user.id) is already on line \(first)")
            return
        }
        emailLines[key] = numbered.line
        idLines[user.id] = numbered.line
        pending.append((numbered.line, user))
        if pending.count >= batchSize { try await flush() }
    }

    /// Whether a line of this run named the user id `id` (so a dry run's group members can be
    /// checked against the file as well as the database).
    public func hasSeen(id: String) -> Bool {
        idLines[id] != nil
    }

    /// Counts a line that could not be read at all (the caller's reader found it broken).
    public func fail(_ line: Int, _ reason: String) {
        counts.failed += 1
        report(line, reason)
    }

    /// Stores what is pending.
    public func flush() async throws {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        let outcomes = try await store.importUsers(batch.map(\.user), dryRun: dryRun, now: now())
        for (entry, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .created: counts.created += 1
            case .updated: counts.updated += 1
            case .unchanged: counts.unchanged += 1
            case .refused(let reason): fail(entry.line, reason)
            }
        }
    }
}

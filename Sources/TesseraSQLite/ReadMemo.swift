import Synchronization

/// Answers of one kind of read, kept only while the database is unchanged.
///
/// Every lookup first asks the ``DataVersionWatch``; when anything was committed since the
/// answers were kept, they are all dropped. So a lookup answers as a fresh read would: with
/// every commit that finished before the lookup began, whichever process made it. A revoked
/// token, a deleted client or a disabled user is seen at once.
///
/// It pays where reads repeat between writes: the same token checked again and again, the
/// same client authenticating. Under a write-heavy load it is emptied often and costs one
/// `PRAGMA data_version` per lookup.
final class ReadMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Kept: ~Copyable {
        var version: Int64 = .min
        var answers: [Key: Value] = [:]
    }

    private let watch: DataVersionWatch
    private let capacity: Int
    private let kept = Mutex(Kept())

    /// - Parameter capacity: the most answers kept; beyond it, lookups read without keeping.
    init(watch: DataVersionWatch, capacity: Int) {
        self.watch = watch
        self.capacity = capacity
    }

    /// The kept answer for `key`, or `read()`'s, which is kept unless the database changed
    /// while it ran.
    func value(for key: Key, read: () throws -> Value) throws -> Value {
        let version = try watch.current()
        let hit = kept.withLock { (kept: inout Kept) -> Value? in
            if kept.version != version {
                kept.version = version
                kept.answers.removeAll(keepingCapacity: true)
            }
            return kept.answers[key]
        }
        if let hit { return hit }
        let value = try read()
        kept.withLock { (kept: inout Kept) in
            // A newer version seen meanwhile may postdate this answer: keep nothing then.
            if kept.version == version, kept.answers.count < capacity {
                kept.answers[key] = value
            }
        }
        return value
    }
}

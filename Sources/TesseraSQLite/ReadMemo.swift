import Synchronization

/// Answers of one kind of read, kept only while the data they were read from is unchanged.
///
/// Every lookup first asks the ``ChangeWatch`` for its counter's generation; when it moved
/// since the answers were kept, they are all dropped. So a lookup answers as a fresh read
/// would: with every commit that finished before the lookup began, whichever process made
/// it. A revoked token, a deleted client or a disabled user is seen at once.
///
/// It pays where reads repeat: the same token checked again and again, the same client
/// authenticating, while refresh tokens rotate (which change no counter).
final class ReadMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Kept: ~Copyable {
        var version: Int64 = .min
        var answers: [Key: Value] = [:]
    }

    private let watch: ChangeWatch
    private let counter: ChangeWatch.Counter
    private let capacity: Int
    private let kept = Mutex(Kept())

    /// - Parameters:
    ///   - counter: the generation that moves whenever anything `read` reads changes.
    ///   - capacity: the most answers kept; when full, the memo starts over (the working set
    ///     refills it).
    init(watch: ChangeWatch, counter: ChangeWatch.Counter, capacity: Int) {
        self.watch = watch
        self.counter = counter
        self.capacity = capacity
    }

    /// How many answers are kept now.
    var count: Int { kept.withLock { $0.answers.count } }

    /// The kept answer for `key`, or `read()`'s, which is kept unless the data changed while
    /// it ran.
    func value(for key: Key, read: () throws -> Value) throws -> Value {
        let version = try watch.generation(of: counter)
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
            guard kept.version == version else { return }
            if kept.answers.count >= capacity { kept.answers.removeAll(keepingCapacity: true) }
            kept.answers[key] = value
        }
        return value
    }
}

import Synchronization

/// Answers of one kind of read, kept under the version of the data they were read from: a
/// lookup under another version drops them all. The storage backends' read memos are built on
/// it, each with its own source of versions (SQLite's `data_version` and change counters,
/// PostgreSQL's polled change counters).
public final class KeptAnswers<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Kept {
        var version: Int64 = .min
        var answers: [Key: Value] = [:]
    }

    private let capacity: Int
    private let kept = Mutex(Kept())

    /// `capacity`: the most answers kept; when full, everything is dropped (the working set
    /// refills it).
    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// How many answers are kept now.
    public var count: Int { kept.withLock { $0.answers.count } }

    /// The answer kept for `key` under `version` (the kept ones are dropped when `version` is not theirs).
    public func answer(for key: Key, version: Int64) -> Value? {
        kept.withLock { kept in
            if kept.version != version {
                kept.version = version
                kept.answers.removeAll(keepingCapacity: true)
            }
            return kept.answers[key]
        }
    }

    /// Keeps `value`, read under `version`, unless a lookup under a newer version came
    /// meanwhile (it may postdate the answer).
    public func keep(_ value: Value, for key: Key, version: Int64) {
        kept.withLock { kept in
            guard kept.version == version else { return }
            if kept.answers.count >= capacity { kept.answers.removeAll(keepingCapacity: true) }
            kept.answers[key] = value
        }
    }
}

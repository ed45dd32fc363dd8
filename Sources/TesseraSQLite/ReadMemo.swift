import TesseraCore

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
    private let watch: ChangeWatch
    private let counter: ChangeWatch.Counter
    private let kept: KeptAnswers<Key, Value>

    /// - Parameters:
    ///   - counter: the generation that moves whenever anything `read` reads changes.
    ///   - capacity: the most answers kept; when full, the memo starts over (the working set
    ///     refills it).
    init(watch: ChangeWatch, counter: ChangeWatch.Counter, capacity: Int) {
        self.watch = watch
        self.counter = counter
        self.kept = KeptAnswers(capacity: capacity)
    }

    /// How many answers are kept now.
    var count: Int { kept.count }

    /// The kept answer for `key`, or `read()`'s, which is kept unless the data changed while
    /// it ran.
    func value(for key: Key, read: () throws -> Value) throws -> Value {
        let version = try watch.generation(of: counter)
        if let hit = kept.answer(for: key, version: version) { return hit }
        let value = try read()
        kept.keep(value, for: key, version: version)
        return value
    }
}

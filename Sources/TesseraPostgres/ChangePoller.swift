import Foundation
import Synchronization
import TesseraCore

/// The generations of `change_counters` (migration 0005: bumped by triggers in the transaction
/// of every change to clients, users and revocations, whichever instance makes it), read every
/// `cluster_sync_interval` (contract §10.2). ``ClusterMemo`` keeps answers only while the
/// generation they were read under is current.
final class ChangePoller: Sendable {
    enum Counter: String, CaseIterable, Sendable {
        case clients, standings
    }

    private struct State {
        var generations: [Counter: Int64] = [:]
        /// Bumped by this process's own writes, so that it sees them at once.
        var local: Int64 = 0
        var polledAt: ContinuousClock.Instant?
    }

    let interval: Duration
    private let state = Mutex(State())

    init(interval: Duration) {
        self.interval = interval
    }

    /// The version of `counter` to tag answers with, or nil when the last poll is too old to
    /// trust (the database unreachable, the poller behind): then nothing is kept or served.
    func version(of counter: Counter, now: ContinuousClock.Instant = .now) -> Int64? {
        state.withLock { state in
            guard let polledAt = state.polledAt, let generation = state.generations[counter],
                  polledAt.duration(to: now) < max(interval * 4, .seconds(1))
            else { return nil }
            // Disjoint ranges: a local bump and a remote one never give the same version.
            return generation &* 1_000_003 &+ state.local
        }
    }

    /// Records a poll's answer.
    func record(_ generations: [Counter: Int64], at instant: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.generations = generations
            state.polledAt = instant
        }
    }

    /// After a write of this process: everything kept is dropped at the next lookup.
    func bumpLocal() {
        state.withLock { $0.local &+= 1 }
    }
}

/// Answers of one kind of read, kept while the ``ChangePoller``'s generation of their counter
/// is unchanged: a change made through any instance is seen within one polling interval, a
/// change made through this one at once.
final class ClusterMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let poller: ChangePoller
    private let counter: ChangePoller.Counter
    private let kept: KeptAnswers<Key, Value>

    init(poller: ChangePoller, counter: ChangePoller.Counter, capacity: Int) {
        self.poller = poller
        self.counter = counter
        self.kept = KeptAnswers(capacity: capacity)
    }

    /// The kept answer for `key`, or `read()`'s, kept unless the version moved while it ran.
    func value(for key: Key, read: () async throws -> Value) async throws -> Value {
        guard let version = poller.version(of: counter) else { return try await read() }
        if let hit = kept.answer(for: key, version: version) { return hit }
        let value = try await read()
        if poller.version(of: counter) == version { kept.keep(value, for: key, version: version) }
        return value
    }
}

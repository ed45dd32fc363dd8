import Foundation
import Synchronization

/// Tells waiters that something changed, without losing a change that happens between a
/// waiter's last look and its wait: a waiter notes ``generation`` before it looks, and
/// ``wait(beyond:seconds:)`` returns at once if a change came since. Any number of waiters
/// (long-polling requests, the webhook dispatcher) share one notifier.
public final class ChangeNotifier: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Waiters whose timer or cancellation came before they registered.
        var expired: Set<UInt64> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// The number of changes so far.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Records a change and wakes every waiter.
    public func notify() {
        let waiters = state.withLock { state in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the generation passed `seen`, after `seconds`, or when the task is
    /// cancelled, whichever comes first.
    public func wait(beyond seen: UInt64, seconds: TimeInterval) async {
        let id = state.withLock { state in
            defer { state.nextWaiter &+= 1 }
            return state.nextWaiter
        }
        defer { _ = state.withLock { $0.expired.remove(id) } }
        let timer = Task { [self] in
            try? await Task.sleep(for: .seconds(max(0, seconds)))
            resume(id)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if state.generation != seen || state.expired.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            resume(id)
        }
    }

    private func resume(_ id: UInt64) {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiters.removeValue(forKey: id) else {
                state.expired.insert(id)
                return nil
            }
            return waiter
        }?.resume()
    }
}

import Foundation
import Synchronization

/// Lets waiters sleep until signalled or until a timeout, whichever comes first. A signal
/// wakes every current waiter; one sent while nobody waits is remembered for the next wait.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.pending = true
                return []
            }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when signalled, after `seconds`, or when the task is cancelled.
    public func wait(seconds: TimeInterval) async {
        let timer = Task { [self] in
            try? await Task.sleep(for: .seconds(seconds))
            signal()
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}

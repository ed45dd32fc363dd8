import Foundation
import Synchronization
import TesseraCore

/// Who may run a password hash now, who waits, and who is turned away.
///
/// - `slots` hashes run or sit in the pool's queue at once; work of ``HashingPriority/other``
///   (sign-ups, rehashes) may hold at most `otherSlots` of them, so sign-ins always have the
///   rest.
/// - When no slot is free, up to `waitingRoom` callers wait (first come, first served) for
///   at most `maxWait`; past that, or with the room full, the answer is no at once. Waiting
///   briefly rather than refusing at once keeps a client that retries without pause (ignoring
///   `Retry-After`) from spinning on refusals, which would take CPU from the hashes themselves.
final class HashingAdmission: Sendable {
    private struct Waiter {
        let id: UInt64
        let priority: HashingPriority
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var signIns = 0
        var others = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    let slots: Int
    let otherSlots: Int
    let waitingRoom: Int
    let maxWait: Duration
    private let state = Mutex(State())

    init(slots: Int, otherSlots: Int, waitingRoom: Int, maxWait: Duration) {
        self.slots = max(0, slots)
        self.otherSlots = min(max(1, otherSlots), self.slots)
        self.waitingRoom = waitingRoom
        self.maxWait = maxWait
    }

    /// Waits for a slot; false when none came (the caller answers 503). A true must be
    /// followed by one ``leave(_:)``.
    func enter(_ priority: HashingPriority) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let waiting: UInt64? = state.withLock { state in
                if Self.take(priority, in: &state, slots: slots, otherSlots: otherSlots) {
                    continuation.resume(returning: true)
                    return nil
                }
                guard state.waiters.count < waitingRoom else {
                    continuation.resume(returning: false)
                    return nil
                }
                state.nextID += 1
                state.waiters.append(Waiter(id: state.nextID, priority: priority, continuation: continuation))
                return state.nextID
            }
            guard let waiting else { return }
            Task { [maxWait] in
                try? await Task.sleep(for: maxWait)
                self.giveUp(waiting)
            }
        }
    }

    /// Turns a waiter away once it has waited `maxWait` (nothing if it was admitted meanwhile).
    private func giveUp(_ id: UInt64) {
        let expired = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).continuation
        }
        expired?.resume(returning: false)
    }

    /// Frees a slot and hands it to the first waiter it can serve.
    func leave(_ priority: HashingPriority) {
        let next: CheckedContinuation<Bool, Never>? = state.withLock { state in
            switch priority {
            case .signIn: state.signIns -= 1
            case .other: state.others -= 1
            }
            guard let index = state.waiters.firstIndex(where: { Self.fits($0.priority, in: state, slots: slots, otherSlots: otherSlots) }) else {
                return nil
            }
            let waiter = state.waiters.remove(at: index)
            _ = Self.take(waiter.priority, in: &state, slots: slots, otherSlots: otherSlots)
            return waiter.continuation
        }
        next?.resume(returning: true)
    }

    /// Whether a sign-in would be turned away at once: no slot free and the room full.
    var isSaturated: Bool {
        state.withLock { state in
            !Self.fits(.signIn, in: state, slots: slots, otherSlots: otherSlots) && state.waiters.count >= waitingRoom
        }
    }

    /// Hashes running or queued, and callers waiting (tests read these).
    var counts: (running: Int, waiting: Int) {
        state.withLock { ($0.signIns + $0.others, $0.waiters.count) }
    }

    private static func fits(_ priority: HashingPriority, in state: State, slots: Int, otherSlots: Int) -> Bool {
        guard state.signIns + state.others < slots else { return false }
        return priority == .signIn || state.others < otherSlots
    }

    private static func take(_ priority: HashingPriority, in state: inout State, slots: Int, otherSlots: Int) -> Bool {
        guard fits(priority, in: state, slots: slots, otherSlots: otherSlots) else { return false }
        switch priority {
        case .signIn: state.signIns += 1
        case .other: state.others += 1
        }
        return true
    }
}

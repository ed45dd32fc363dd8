import Foundation
import Synchronization

/// `body` took longer than allowed.
public struct TimeoutError: Error, Equatable {}

/// Runs `body`, giving up after `seconds`. The caller is released at the deadline even if
/// `body` ignores cancellation (it is cancelled and left to finish on its own).
public func withTimeout<Value: Sendable>(
    seconds: TimeInterval, _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let race = TimeoutRace<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, seconds: seconds, body: body)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The work and the timer of one ``withTimeout(seconds:_:)``: whichever finishes first
/// resumes the caller, once, and cancels the other.
private final class TimeoutRace<Value: Sendable>: Sendable {
    struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var finished = false
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Value, any Error>, seconds: TimeInterval, body: @escaping @Sendable () async throws -> Value) {
        let alreadyFinished = state.withLock { state in
            state.continuation = continuation
            return state.finished
        }
        if alreadyFinished {
            continuation.resume(throwing: CancellationError())
            return
        }
        let work = Task { [self] in
            do { finish(.success(try await body())) } catch { finish(.failure(error)) }
        }
        let timer = Task { [self] in
            try? await Task.sleep(for: .seconds(seconds))
            finish(.failure(TimeoutError()))
        }
        let cancelNow = state.withLock { state in
            state.tasks = [work, timer]
            return state.finished
        }
        if cancelNow { work.cancel(); timer.cancel() }
    }

    func finish(_ result: Result<Value, any Error>) {
        let (continuation, tasks): (CheckedContinuation<Value, any Error>?, [Task<Void, Never>]) = state.withLock { state in
            guard !state.finished else { return (nil, []) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}

/// Whether a timer went off: set once by the timer, read by whoever saw an operation fail, to
/// tell a timeout from another error.
public final class TimerFlag: Sendable {
    private let state = Mutex(false)

    public init() {}

    public func fire() { state.withLock { $0 = true } }

    public var fired: Bool { state.withLock { $0 } }
}

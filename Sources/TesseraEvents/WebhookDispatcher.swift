import Foundation
import Logging
import Synchronization
import TesseraCore

/// Drains the delivery lanes for as long as the server runs (contract §9.3): claims due lane
/// heads (one per lane, so a user's events go in order and a failing one holds up only its own
/// lane) and sends up to `concurrency` at once, off the HTTP event loops. It wakes when an
/// event commits in this process, when a delivery ends, when the next retry is due, and at
/// least every second for deliveries queued by other processes (the admin CLI).
public struct WebhookDispatcher: Sendable {
    /// The most deliveries in flight at once (and so connections).
    public static let defaultConcurrency = 32
    /// The longest sleep: deliveries the CLI queues are found within this.
    static let pollInterval: TimeInterval = 1

    let deliverer: WebhookDeliverer
    let store: any WebhookStore
    let events: ChangeNotifier
    let concurrency: Int
    let now: Now
    let logger: Logger

    public init(
        deliverer: WebhookDeliverer, store: any WebhookStore, events: ChangeNotifier, concurrency: Int = Self.defaultConcurrency,
        now: @escaping Now, logger: Logger
    ) {
        self.deliverer = deliverer
        self.store = store
        self.events = events
        self.concurrency = concurrency
        self.now = now
        self.logger = logger
    }

    /// Runs until the task is cancelled; deliveries in flight then end (unanswered ones give
    /// their lane back).
    public func run() async {
        let wake = ChangeNotifier()
        let inFlight = InFlightCount()
        await withDiscardingTaskGroup { group in
            group.addTask { [events] in
                var seen = events.generation
                while !Task.isCancelled {
                    await events.wait(beyond: seen, seconds: 3600)
                    seen = events.generation
                    wake.notify()
                }
            }
            while !Task.isCancelled {
                let seen = wake.generation
                let free = concurrency - inFlight.value
                var claims: [DeliveryClaim] = []
                if free > 0 {
                    do {
                        claims = try await store.claimDeliveries(limit: free, leaseUntil: now() + deliverer.lease, now: now())
                    } catch {
                        logger.error("could not claim webhook deliveries", metadata: ["error": "\(error)"])
                    }
                }
                for claim in claims {
                    inFlight.add(1)
                    group.addTask { [deliverer] in
                        await deliverer.drain(claim)
                        inFlight.add(-1)
                        wake.notify()
                    }
                }
                if free > 0 && claims.count == free { continue }
                await wake.wait(beyond: seen, seconds: await sleepLength(busy: free <= 0 || !claims.isEmpty))
            }
            group.cancelAll()
        }
    }

    /// Until the next retry is due, at most ``pollInterval``.
    private func sleepLength(busy: Bool) async -> TimeInterval {
        guard !busy, let due = try? await store.nextDeliveryDue() else { return Self.pollInterval }
        return min(Self.pollInterval, max(0.005, due.timeIntervalSince(now())))
    }
}

/// How many deliveries are in flight.
private final class InFlightCount: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add(_ delta: Int) { count.withLock { $0 += delta } }
}

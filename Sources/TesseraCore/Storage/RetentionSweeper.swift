import Foundation
import Logging

/// Runs ``RetentionStore/sweepExpired(now:eventRetention:)`` at start and then every `interval`.
public struct RetentionSweeper: Sendable {
    /// How often expired rows are swept.
    public static let defaultInterval: Duration = .seconds(600)

    let store: any RetentionStore
    let interval: Duration
    let eventRetention: TimeInterval
    let now: Now
    let logger: Logger

    public init(
        store: any RetentionStore, interval: Duration = Self.defaultInterval, eventRetention: TimeInterval = Settings().eventRetention,
        now: @escaping Now, logger: Logger
    ) {
        self.store = store
        self.eventRetention = eventRetention
        self.interval = interval
        self.now = now
        self.logger = logger
    }

    /// Sweeps once; failures are logged and retried at the next turn.
    public func sweepOnce() async {
        do {
            let counts = try await store.sweepExpired(now: now(), eventRetention: eventRetention)
            if counts.total > 0 {
                logger.info("expired rows swept", metadata: [
                    "families": "\(counts.families)", "sessions": "\(counts.sessions)", "revoked_jtis": "\(counts.revokedJTIs)", "codes": "\(counts.codes)", "events": "\(counts.events)",
                ])
            }
        } catch {
            logger.warning("sweep of expired rows failed", metadata: ["error": "\(error)"])
        }
    }

    /// Sweeps until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await sweepOnce()
            try? await Task.sleep(for: interval)
        }
    }
}

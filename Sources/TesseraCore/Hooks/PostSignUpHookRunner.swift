import Foundation
import Logging

/// Works through the durable queue of post-sign-up hook runs: runs each due one with a
/// timeout; on failure schedules the next attempt after `hook_retry_base_delay × 2^(n−1)`,
/// until `hook_max_attempts`, then dead-letters it. Because the queue is in the database,
/// runs left pending by a crash or restart are picked up by the next server. Runs are claimed
/// under a lease (`lease_timeout`), so instances sharing a database never run one attempt twice.
public final class PostSignUpHookRunner: Sendable {
    public typealias Store = HookOutbox & UserStore

    let hooks: [String: any PostSignUpHook]
    let store: any Store
    let settings: Settings
    let now: Now
    let logger: Logger
    private let wake = ChangeNotifier()
    /// How often an idle runner looks for runs re-queued by another process (the admin CLI).
    public static let idlePollInterval: TimeInterval = 5

    public init(hooks: [any PostSignUpHook], store: any Store, settings: Settings, now: @escaping Now, logger: Logger) {
        self.hooks = Dictionary(hooks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.settings = settings
        self.now = now
        self.logger = logger
    }

    /// Asks the runner to look for due runs now (after a sign-up).
    public func nudge() { wake.notify() }

    /// Runs until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            // Noted before looking, so that a nudge while it looks is not lost.
            let seen = wake.generation
            do {
                try await runDue()
                let next = try await store.nextHookRunDue()
                let delay = next.map { $0.timeIntervalSince(now()) } ?? Self.idlePollInterval
                await wake.wait(beyond: seen, seconds: min(max(delay, 0.01), Self.idlePollInterval))
            } catch {
                if Task.isCancelled { return }
                logger.error("hook runner: storage failed", metadata: ["error": "\(error)"])
                await wake.wait(beyond: seen, seconds: Self.idlePollInterval)
            }
        }
    }

    /// Runs every run due now, once each. Returns how many were attempted.
    @discardableResult
    public func runDue() async throws -> Int {
        var attempted = 0
        while true {
            let now = now()
            let due = try await store.claimHookRuns(now: now, limit: 32, lease: Lease(holder: settings.instanceID, until: now + leaseLength))
            if due.isEmpty { return attempted }
            for run in due {
                try await attempt(run)
                attempted += 1
            }
        }
    }

    /// How long a claimed run stays this instance's: `lease_timeout`, and at least two hook
    /// timeouts so that no attempt outlives its claim.
    var leaseLength: TimeInterval { max(settings.leaseTimeout, 2 * settings.hookTimeout) }

    private func attempt(_ run: HookRun) async throws {
        let failure: String?
        if let hook = hooks[run.hook] {
            if let user = try await store.user(id: run.userID) {
                let signedUp = SignedUpUser(id: user.id, email: user.email, attributes: user.attributes, status: user.status)
                do {
                    try await withTimeout(seconds: settings.hookTimeout) { try await hook.afterSignUp(signedUp) }
                    failure = nil
                } catch is TimeoutError {
                    failure = "timed out after \(settings.hookTimeout) s"
                } catch {
                    failure = String(describing: error)
                }
            } else {
                failure = "user \(run.userID) no longer exists"
            }
        } else {
            failure = "no post-sign-up hook named \(run.hook) is registered"
        }
        let now = now()
        guard let failure else {
            try await store.markHookRunSucceeded(id: run.id, now: now)
            logger.info("post-sign-up hook succeeded", metadata: ["hook": "\(run.hook)", "user.id": "\(run.userID)", "attempt": "\(run.attempts + 1)"])
            return
        }
        let attempts = run.attempts + 1
        let retryAt = attempts >= settings.hookMaxAttempts
            ? nil : now.addingTimeInterval(settings.hookRetryBaseDelay * pow(2, Double(attempts - 1)))
        try await store.markHookRunFailed(id: run.id, error: failure, retryAt: retryAt, now: now)
        logger.warning(retryAt == nil ? "post-sign-up hook dead-lettered" : "post-sign-up hook failed; will retry", metadata: [
            "hook": "\(run.hook)", "user.id": "\(run.userID)", "attempt": "\(attempts)",
        ])
    }
}

import CoreMetrics

/// The domain series of contract §12.1, as swift-metrics handles made once from one factory.
///
/// Every labelled series is made up front for each of its (few, fixed) label values, so that
/// recording is a dictionary read and an atomic add, never a lock, and every series is
/// exported from the start at 0 (a `rate()` over a restart needs the zero). Which backend the
/// handles write to is the composition root's choice; ``disabled`` writes nowhere.
public final class ServiceMetrics: Sendable {
    /// How a password sign-in ended (`tessera_logins_total{result}`).
    public enum LoginResult: String, CaseIterable, Sendable {
        case success, invalidCredentials = "invalid_credentials", locked, unconfirmed, disabled, migrated
    }

    /// How a sign-up ended (`tessera_signups_total{result}`).
    public enum SignUpResult: String, CaseIterable, Sendable {
        /// Stored.
        case created
        /// Refused for its input: a malformed address, a weak password, a bad attribute.
        case invalid
        /// The address belongs to an account already.
        case emailTaken = "email_taken"
        /// A pre-sign-up hook refused it, failed or timed out.
        case rejected
        /// The client IP's sign-up rate, or a full password pool.
        case throttled
    }

    /// Which grant issued tokens (`tessera_tokens_issued_total{grant}`).
    public enum Grant: String, CaseIterable, Sendable {
        case password, refreshToken = "refresh_token", authorizationCode = "authorization_code", clientCredentials = "client_credentials"
    }

    /// How one webhook delivery attempt ended (`tessera_webhook_deliveries_total{result}`).
    public enum DeliveryResult: String, CaseIterable, Sendable {
        /// A 2xx answer.
        case delivered
        /// Failed; it will be tried again.
        case retrying
        /// Failed for the last time.
        case failed
    }

    private let logins: [LoginResult: Counter]
    private let signUps: [SignUpResult: Counter]
    private let tokens: [Grant: Counter]
    private let deliveries: [DeliveryResult: Counter]
    /// `tessera_refresh_reuse_detected_total`.
    private let reuses: Counter
    /// `tessera_password_hash_seconds`: the time one bcrypt hash or verification ran.
    private let passwordHashSeconds: Timer
    /// `tessera_db_commit_seconds`: one transaction, from BEGIN to COMMIT returning (SQLite: a group's).
    private let databaseCommitSeconds: Timer
    /// `tessera_db_group_commit_size`: writes per SQLite group commit.
    private let databaseGroupCommitSize: Recorder

    /// The factory every handle came from; the HTTP layer makes its per-route series with it.
    public let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
        func counters<Value: RawRepresentable & CaseIterable & Hashable>(_ label: String, _ dimension: String, _: Value.Type) -> [Value: Counter]
        where Value.RawValue == String {
            Dictionary(uniqueKeysWithValues: Value.allCases.map {
                ($0, Counter(label: label, dimensions: [(dimension, $0.rawValue)], factory: factory))
            })
        }
        logins = counters("tessera_logins_total", "result", LoginResult.self)
        signUps = counters("tessera_signups_total", "result", SignUpResult.self)
        tokens = counters("tessera_tokens_issued_total", "grant", Grant.self)
        deliveries = counters("tessera_webhook_deliveries_total", "result", DeliveryResult.self)
        reuses = Counter(label: "tessera_refresh_reuse_detected_total", factory: factory)
        passwordHashSeconds = Timer(label: "tessera_password_hash_seconds", factory: factory)
        databaseCommitSeconds = Timer(label: "tessera_db_commit_seconds", factory: factory)
        databaseGroupCommitSize = Recorder(label: "tessera_db_group_commit_size", factory: factory)
    }

    /// Handles that record nothing (tests, tools, a server without metrics).
    public static let disabled = ServiceMetrics(factory: NOOPMetricsHandler.instance)

    public func login(_ result: LoginResult) { logins[result]!.increment() }
    public func signUp(_ result: SignUpResult) { signUps[result]!.increment() }
    public func tokensIssued(_ grant: Grant) { tokens[grant]!.increment() }
    public func delivery(_ result: DeliveryResult) { deliveries[result]!.increment() }
    public func refreshReuseDetected() { reuses.increment() }
    /// A password hash or verification that began at `start` just ended.
    public func passwordHashed(since start: ContinuousClock.Instant) { passwordHashSeconds.recordElapsed(since: start) }
    /// A transaction that began at `start` committed; `writes` of them shared it (SQLite's group
    /// commit), nil where transactions are not grouped.
    public func databaseCommitted(since start: ContinuousClock.Instant, writes: Int? = nil) {
        databaseCommitSeconds.recordElapsed(since: start)
        if let writes { databaseGroupCommitSize.record(writes) }
    }

    /// The login result an error of a password sign-in stands for, if it is one of them.
    public static func loginResult(of error: any Error) -> LoginResult? {
        switch error as? AccountError {
        case .invalidCredentials: .invalidCredentials
        case .tooManyAttempts: .locked
        case .userUnconfirmed: .unconfirmed
        case .userDisabled: .disabled
        default: nil
        }
    }

    /// The sign-up result an error of a sign-up stands for, if it is one of them.
    public static func signUpResult(of error: any Error) -> SignUpResult? {
        switch error as? AccountError {
        case .invalidRequest, .invalidEmail, .weakPassword: .invalid
        case .emailTaken: .emailTaken
        case .signupRejected, .hookFailed: .rejected
        case .tooManyRequests, .busy: .throttled
        default: nil
        }
    }
}

extension Timer {
    /// Records the time elapsed since `start`.
    func recordElapsed(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}

/// Everything Tessera stores, as one dependency for the server. Each backend implements
/// every narrow store protocol; the server asks only for what it uses.
public protocol Storage: SigningKeyStore, UserStore, RefreshTokenStore, RevocationStore, HookOutbox, ClientStore, AuthorizationCodeStore, SSOSessionStore, AuditLog, RetentionStore, CodeStore, MailOutbox, EmailStore, EventLog, WebhookStore, GroupStore, AccessKeyStore, SRPVerifierStore, ChallengeStore, RefreshRetryStore, UserImportStore, OperationalStatsStore {
    /// Whether the database answers a query (for readiness).
    func ping() async -> Bool
}

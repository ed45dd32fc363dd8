/// The built-in client `/v1/login` acts for when no `client_id` is given (contract §4).
public enum FirstPartyClient {
    public static let id = "tessera"
    /// What the first-party API may grant.
    public static let allowedScope = Scope([Scope.openID, Scope.email, Scope.profile, Scope.offlineAccess, Scope.account, Scope.groups])
    /// Granted when a login asks for no scope.
    public static let defaultScope = Scope([Scope.openID, Scope.email, Scope.profile, Scope.account])
}

/// One address of an account (contract §8.3).
public struct AccountEmail: Sendable, Equatable {
    /// As the user typed it.
    public var email: String
    public var primary: Bool
    public var verified: Bool

    public init(email: String, primary: Bool, verified: Bool) {
        self.email = email
        self.primary = primary
        self.verified = verified
    }
}

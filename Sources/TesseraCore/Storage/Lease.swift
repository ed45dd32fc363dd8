import Foundation

/// A claim on outbox work (a hook run, a message) by one instance until a time (contract
/// §10.2): no other instance claims it meanwhile; one that crashed is taken over once `until`
/// has passed.
public struct Lease: Sendable, Equatable {
    /// The instance holding it (`instance_id`).
    public var holder: String
    public var until: Date

    public init(holder: String, until: Date) {
        self.holder = holder
        self.until = until
    }
}

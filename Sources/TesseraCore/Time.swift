import Foundation

/// The current time, injected everywhere time matters so tests can move it.
public typealias Now = @Sendable () -> Date

extension Date {
    /// Whole seconds since the epoch, as JWT claims carry them.
    public var epochSeconds: Int { Int(timeIntervalSince1970.rounded(.down)) }
}

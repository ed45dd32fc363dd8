import Foundation
import Logging
import TesseraCore

/// What the HTTP layer is built from: composed once by the caller, shared by every controller.
public struct Dependencies: Sendable {
    public var settings: Settings
    public var storage: any Storage
    /// Signs, verifies and publishes with Tessera's signing keys.
    public var keys: any TokenSigner & TokenVerifier & KeySetPublisher
    public var now: Now

    public init(
        settings: Settings,
        storage: any Storage,
        keys: any TokenSigner & TokenVerifier & KeySetPublisher,
        now: @escaping Now = { Date() }
    ) {
        self.settings = settings
        self.storage = storage
        self.keys = keys
        self.now = now
    }
}

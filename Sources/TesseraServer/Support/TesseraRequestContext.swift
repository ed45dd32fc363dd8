import Hummingbird
import Logging
import NIOCore
import TesseraCore

/// The request context of every Tessera route.
public struct TesseraRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The socket's peer, kept as it is: only the sign-in routes need it as text.
    let peer: SocketAddress?
    /// The peer's IP address, for per-IP limits; "unknown" when there is no socket peer.
    public var clientIP: String { peer?.ipAddress ?? "unknown" }
    /// Set by ``BearerAuthenticator`` when a valid access token was presented.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress
        principal = nil
    }

    /// Bodies Tessera accepts are small JSON or form documents.
    public var maxUploadSize: Int { 64 * 1024 }
}

/// The user and claims behind a verified access token.
public struct Principal: Sendable {
    public let user: User
    public let claims: AccessTokenClaims
}

/// The context of routes that need a user: it cannot exist without a verified access token,
/// so handlers never check for one.
public struct AuthenticatedRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let principal: Principal
    private let peer: SocketAddress?
    /// The peer's IP address, for per-IP limits.
    public var clientIP: String { peer?.ipAddress ?? "unknown" }

    public init(context: TesseraRequestContext) throws {
        guard let principal = context.principal else { throw BearerError.missing }
        coreContext = context.coreContext
        self.principal = principal
        peer = context.peer
    }

    public var maxUploadSize: Int { 64 * 1024 }
}

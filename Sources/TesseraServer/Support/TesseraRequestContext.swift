import Hummingbird
import Logging

/// The request context of every Tessera route.
public struct TesseraRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies Tessera accepts are small JSON or form documents.
    public var maxUploadSize: Int { 64 * 1024 }
}

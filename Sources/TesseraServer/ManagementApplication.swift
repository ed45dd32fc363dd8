import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TesseraCore

/// What a metrics scrape answers: the media type and the exposition.
public struct MetricsPage: Sendable {
    public let contentType: String
    public let body: String

    public init(contentType: String, body: String) {
        self.contentType = contentType
        self.body = body
    }
}

/// The management listener (contract §12.1): `GET /metrics`, `/healthz` and `/readyz` on
/// their own address, nothing else. Run as a service beside the main application.
///
/// - Parameters:
///   - scrape: renders the metrics for a request's `Accept` header.
///   - onReady: called once it listens, with the bound host and port.
public func buildManagementApplication(
    dependencies: Dependencies,
    logger: Logger,
    scrape: @escaping @Sendable (_ accept: String?) async -> MetricsPage,
    onReady: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
) -> some ApplicationProtocol & Service {
    let router = Router(context: TesseraRequestContext.self)
    HealthController(dependencies: dependencies).addRoutes(to: router)
    router.get("/metrics") { request, _ in
        let page = await scrape(request.headers[.accept])
        var headers = HTTPFields()
        headers[.contentType] = page.contentType
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.body)))
    }
    var quiet = logger
    quiet.logLevel = max(logger.logLevel, .notice)
    return Application(
        router: router,
        configuration: .init(
            address: .hostname(dependencies.settings.managementHost, port: dependencies.settings.managementPort), serverName: nil),
        onServerRunning: { channel in
            let address = channel.localAddress
            await onReady(address?.ipAddress ?? dependencies.settings.managementHost, address?.port ?? dependencies.settings.managementPort)
        },
        logger: quiet)
}

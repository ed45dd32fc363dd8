import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TesseraCore

/// Runs the post-sign-up hook runner for as long as the server runs.
struct HookRunnerService: Service {
    let runner: PostSignUpHookRunner

    func run() async throws {
        await cancelWhenGracefulShutdown { await runner.run() }
    }
}

/// Sweeps expired rows for as long as the server runs.
struct RetentionService: Service {
    let sweeper: RetentionSweeper

    func run() async throws {
        await cancelWhenGracefulShutdown { await sweeper.run() }
    }
}

/// Builds Tessera's HTTP application from its dependencies.
///
/// - Parameters:
///   - dependencies: settings, storage and keys, composed by the caller.
///   - logger: the server's logger.
///   - services: more services to run alongside (the key-ring refresher).
///   - runsHookRunner: whether the application runs the post-sign-up hook runner as a service
///     (tests that drive the runner by hand turn it off).
///   - moreRoutes: adds the routes of modules the server does not know (the Cognito API).
///   - onReady: called once the server is listening, with the bound host and port.
public func buildApplication(
    dependencies: Dependencies,
    logger: Logger,
    services: [any Service] = [],
    runsHookRunner: Bool = true,
    moreRoutes: (Router<TesseraRequestContext>) -> Void = { _ in },
    onReady: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(dependencies: dependencies, moreRoutes: moreRoutes)
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(dependencies.settings.httpIdleTimeout * 1e9)))),
        configuration: .init(
            address: .hostname(dependencies.settings.host, port: dependencies.settings.port),
            serverName: nil),
        services: services + [RetentionService(sweeper: dependencies.retention)]
            + (runsHookRunner ? [HookRunnerService(runner: dependencies.hookRunner)] : []),
        onServerRunning: { channel in
            let address = channel.localAddress
            await onReady(address?.ipAddress ?? dependencies.settings.host, address?.port ?? dependencies.settings.port)
        },
        logger: logger)
}

/// The router with every route of Tessera.
func buildRouter(dependencies: Dependencies, moreRoutes: (Router<TesseraRequestContext>) -> Void = { _ in }) -> Router<TesseraRequestContext> {
    let router = Router(context: TesseraRequestContext.self, options: .autoGenerateHeadEndpoints)
    let routes = RouteMethods()
    let requestMetrics = RequestMetrics(factory: dependencies.metrics.factory)
    // Outermost, so that it logs and counts the status the error middleware answered with.
    router.add(middleware: RequestLogMiddleware(metrics: requestMetrics))
    let gate = AdminGate(accessTokens: dependencies.accounts.accessTokens, auditLog: dependencies.storage, now: dependencies.now)
    // Outside the error middleware, so that it sees the status a refused admin call got.
    router.add(middleware: AdminRefusalAudit(gate: gate))
    router.add(middleware: ErrorMiddleware(routes: routes))
    HealthController(dependencies: dependencies).addRoutes(to: router)
    WellKnownController(dependencies: dependencies).addRoutes(to: router)
    OpenAPIController(issuer: dependencies.settings.issuer).addRoutes(to: router)
    let verifier = BearerAuthenticator(accounts: dependencies.accounts)
    let accounts = AccountController(accounts: dependencies.accounts, addresses: dependencies.addresses, now: dependencies.now)
    accounts.addRoutes(to: router, verifier: verifier)
    EmailAddressController(addresses: dependencies.addresses, profiles: accounts).addRoutes(to: router, verifier: verifier)
    LifecycleController(lifecycle: dependencies.lifecycle).addRoutes(to: router)
    TokenController(accounts: dependencies.accounts, authorization: dependencies.authorization, now: dependencies.now)
        .addRoutes(to: router)
    IntrospectionController(clients: dependencies.accounts.clients, inspector: dependencies.inspector)
        .addRoutes(to: router)
    UserInfoController(accessTokens: dependencies.accounts.accessTokens).addRoutes(to: router)
    EventsController(
        accessTokens: dependencies.accounts.accessTokens, log: dependencies.storage, publicURL: dependencies.settings.publicBaseURL
    ).addRoutes(to: router)
    AuthorizeController(
        authorization: dependencies.authorization, accounts: dependencies.accounts, lifecycle: dependencies.lifecycle, keys: dependencies.keys,
        settings: dependencies.settings, crypto: dependencies.crypto
    ).addRoutes(to: router)
    AdminUsersController(admin: dependencies.admin, accounts: dependencies.accounts, lifecycle: dependencies.lifecycle, gate: gate)
        .addRoutes(to: router)
    AdminRevocationController(revocations: dependencies.revocations, users: dependencies.admin, gate: gate).addRoutes(to: router)
    AdminKeysController(keys: dependencies.keyAdministration, gate: gate).addRoutes(to: router)
    AdminGroupsController(groups: dependencies.groupAdministration, users: dependencies.admin, gate: gate).addRoutes(to: router)
    if let webhooks = dependencies.webhookAdministration {
        AdminWebhooksController(webhooks: webhooks, gate: gate).addRoutes(to: router)
    }
    if let clients = dependencies.clientAdministration {
        AdminClientsController(clients: clients, gate: gate).addRoutes(to: router)
    }
    moreRoutes(router)
    routes.record(router.routes)
    requestMetrics.record(router.routes)
    return router
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing
import Tessera
import TesseraCore
import TesseraCrypto
import TesseraEvents
import TesseraServer
import TesseraSQLite
import TesseraTestSupport

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

/// The tests' logger: warnings and errors only, so test output stays readable.
let testLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    return logger
}()

/// A real Tessera application on its own temporary database and keys dir.
struct TestServer {
    let directory: TemporaryDirectory
    let settings: Settings
    let storage: SQLiteStorage
    let keys: KeyRing
    let clock: TestClock
    let dependencies: Dependencies

    init(
        hooks: Hooks = .none, clock: TestClock = TestClock(), directory: TemporaryDirectory = TemporaryDirectory(),
        hasher: (any PasswordHasher)? = nil, configure: (inout Settings) -> Void = { _ in }
    ) async throws {
        var settings = Settings()
        settings.issuer = "https://id.example.test"
        settings.database = directory.path("tessera.sqlite")
        settings.keysDir = directory.path("keys")
        settings.bcryptCost = 10
        configure(&settings)
        self.directory = directory
        self.settings = settings
        self.clock = clock
        storage = try TesseraRuntime.openStorage(settings)
        keys = try await TesseraRuntime.loadKeys(settings, storage: storage, logger: testLogger, now: clock.now)
        let sealer = AESGCMSealer(key: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let now: Now = { [clock] in clock.now }
        let deliverer = WebhookDeliverer(
            store: storage, sealer: sealer, client: Self.webhookClient, crypto: OpenSSLPrimitives(), settings: settings, now: now, logger: testLogger)
        dependencies = Dependencies(
            settings: settings, storage: storage, keys: keys, crypto: OpenSSLPrimitives(),
            hasher: hasher ?? BcryptPasswordHasher(), hooks: hooks, now: now, logger: testLogger, secretSealer: sealer,
            webhookAdministration: WebhookAdmin(
                store: storage, sealer: sealer, crypto: OpenSSLPrimitives(), settings: settings, deliverer: deliverer, now: now))
    }

    /// One webhook HTTP client for every test server (its TLS context is built once).
    static let webhookClient: WebhookHTTPClient = {
        do {
            return try WebhookHTTPClient(policy: AddressPolicy(allowPrivateNetworks: false))
        } catch {
            fatalError("webhook TLS: \(error)")
        }
    }()

    /// Another server on the same database and keys, as after a restart.
    func restarted(hooks: Hooks = .none, configure: (inout Settings) -> Void = { _ in }) async throws -> TestServer {
        let base = settings
        return try await TestServer(hooks: hooks, clock: clock, directory: directory) { settings in
            settings = base
            configure(&settings)
        }
    }

    /// Runs `body` against the application through Hummingbird's router test client. The
    /// post-sign-up hook runner service runs only when asked; tests otherwise drive it by hand.
    func test<Value>(runningHooks: Bool = false, _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let application = buildApplication(dependencies: dependencies, logger: testLogger, runsHookRunner: runningHooks)
        return try await application.test(.router, body)
    }
}

extension TestResponse {
    /// The body's bytes.
    var data: Data { Data(body.readableBytesView) }

    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// The `error` code of a contract error body.
    var errorCode: String? { json["error"] as? String }
}

extension TestClientProtocol {
    /// POSTs `json` (an object serialised as is, or raw text) as `application/json`.
    func post(_ uri: String, json: [String: Any], headers: HTTPFields = [:]) async throws -> TestResponse {
        let body = try JSONSerialization.data(withJSONObject: json)
        return try await post(uri, raw: String(decoding: body, as: UTF8.self), headers: headers)
    }

    func post(_ uri: String, raw: String, contentType: String = "application/json", headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = contentType
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: raw))
    }

    func signUp(_ email: String, _ password: String = "correct horse battery", attributes: [String: String]? = nil) async throws -> TestResponse {
        var body: [String: Any] = ["email": email, "password": password]
        if let attributes { body["attributes"] = attributes }
        return try await post("/v1/signup", json: body)
    }

    func login(_ email: String, _ password: String = "correct horse battery", extra: [String: Any] = [:]) async throws -> TestResponse {
        try await post("/v1/login", json: ["email": email, "password": password].merging(extra) { $1 })
    }

    func refresh(_ token: String) async throws -> TestResponse {
        try await post("/v1/token/refresh", json: ["refresh_token": token])
    }

    func me(_ accessToken: String) async throws -> TestResponse {
        try await execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(accessToken)"])
    }
}

/// Decodes the claims of a JWT without verifying it (tests look inside tokens they got).
func claims(of token: String) -> [String: Any] {
    let parts = token.split(separator: ".")
    guard parts.count == 3, let data = Base64URL.decode(parts[1]) else { return [:] }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}

func header(of token: String) -> [String: Any] {
    guard let first = token.split(separator: ".").first, let data = Base64URL.decode(first) else { return [:] }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}

extension SQLiteStorage {
    /// Sets a user's status by email (the admin CLI's job, done here through the same store call).
    func setStatus(email: String, _ status: String) async throws {
        let user = try #require(try await user(email: email))
        try await setStatus(userID: user.id, UserStatus(rawValue: status)!, now: Date())
    }
}

extension TestServer {
    /// Registers a client; returns its secret (nil for a public client).
    @discardableResult
    func registerClient(
        _ id: String, confidential: Bool = true, grants: Set<GrantType>, scope: String = "openid email profile offline_access",
        redirectURIs: [String] = [], postLogoutRedirectURIs: [String] = [], audience: String? = nil, accessTokenTTL: TimeInterval? = nil
    ) async throws -> String? {
        let crypto = OpenSSLPrimitives()
        let secret = confidential ? ClientSecret.generate(using: crypto) : nil
        let client = Client(
            id: id, name: id, secretHash: secret?.hash(using: crypto), redirectURIs: redirectURIs,
            postLogoutRedirectURIs: postLogoutRedirectURIs, grants: grants, scope: Scope(parsing: scope)!, audience: audience,
            accessTokenTTL: accessTokenTTL, createdAt: clock.now)
        try await storage.createClient(client, now: clock.now)
        return secret?.value
    }
}

extension TestClientProtocol {
    /// POSTs a form (`application/x-www-form-urlencoded`).
    func postForm(_ uri: String, _ parameters: [String: String], headers: HTTPFields = [:]) async throws -> TestResponse {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = parameters.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
        return try await post(uri, raw: body, contentType: "application/x-www-form-urlencoded", headers: headers)
    }
}

/// `Authorization: Basic` for client credentials (RFC 6749 §2.3.1).
func basic(_ id: String, _ secret: String) -> HTTPFields {
    [.authorization: "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()]
}

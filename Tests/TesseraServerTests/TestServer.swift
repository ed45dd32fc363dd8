import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Tessera
import TesseraCore
import TesseraCrypto
import TesseraServer
import TesseraSQLite
import TesseraTestSupport

/// A real Tessera application on its own temporary database and keys dir.
struct TestServer {
    let directory = TemporaryDirectory()
    let settings: Settings
    let storage: SQLiteStorage
    let keys: KeyRing

    init(configure: (inout Settings) -> Void = { _ in }) async throws {
        var settings = Settings()
        settings.issuer = "https://id.example.test"
        settings.database = directory.path("tessera.sqlite")
        settings.keysDir = directory.path("keys")
        configure(&settings)
        self.settings = settings
        storage = try TesseraRuntime.openStorage(settings)
        keys = try await TesseraRuntime.loadKeys(settings, storage: storage, logger: Logger(label: "test"))
    }

    /// Runs `body` against the application through Hummingbird's router test client.
    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let application = buildApplication(dependencies: Dependencies(settings: settings, storage: storage, keys: keys, crypto: OpenSSLPrimitives(), logger: Logger(label: "test")), logger: Logger(label: "test"))
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
}

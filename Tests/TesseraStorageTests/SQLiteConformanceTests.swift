import Foundation
import Testing
import TesseraCore
import TesseraSQLite
import TesseraStorageConformance
import TesseraTestSupport

/// SQLite on a temporary file: each case a fresh database; another handle is a second
/// `SQLiteStorage` (its own connection pool) on the same file, as the admin CLI or a second
/// process holds.
struct SQLiteBackend: StorageBackend {
    let directory = TemporaryDirectory()

    func makeStorage() async throws -> SQLiteStorage {
        let storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        _ = try storage.migrate()
        return storage
    }

    func anotherHandle(on handle: SQLiteStorage) async throws -> SQLiteStorage {
        try SQLiteStorage(path: handle.path)
    }
}

@Suite("Storage conformance: SQLite")
struct SQLiteConformanceTests {
    @Test(arguments: ConformanceCase.allCases)
    func conformance(_ behaviour: ConformanceCase) async throws {
        try await behaviour.run(on: SQLiteBackend())
    }
}

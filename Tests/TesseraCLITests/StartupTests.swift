import Foundation
import Testing
import TesseraCrypto
import TesseraTestSupport

/// `tessera serve` and `tessera migrate` run as a user runs them: each bad start-up case
/// exits non-zero with a one-line reason on stderr.
@Suite("Start-up failures of the real binary")
struct StartupTests {
    let directory = TemporaryDirectory()

    var baseEnvironment: [String: String] {
        ["TESSERA_DATABASE": directory.path("data/tessera.sqlite"), "TESSERA_KEYS_DIR": directory.path("keys"), "TESSERA_PORT": "1"]
    }

    func serve(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> TesseraBinary.Result {
        try TesseraBinary.run(["serve"] + arguments, in: directory.url, environment: baseEnvironment.merging(environment) { $1 })
    }

    func expectOneLineFailure(_ result: TesseraBinary.Result, status: Int32, mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "exit status", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("tessera: ") == true, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(lines.first?.contains(fragment) == true, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test("an unknown flag is a usage error: exit 2")
    func unknownFlag() throws {
        let result = try serve(["--no-such-flag"])
        expectOneLineFailure(result, status: 2, mentioning: "--no-such-flag")
    }

    @Test("an out-of-range value is refused with exit 2, naming the setting", arguments: [
        (["--port", "70000"], [String: String](), "port"),
        ([String](), ["TESSERA_ACCESS_TOKEN_TTL": "10"], "access_token_ttl"),
        ([String](), ["TESSERA_BCRYPT_COST": "4"], "bcrypt_cost"),
    ])
    func outOfRange(arguments: [String], environment: [String: String], key: String) throws {
        expectOneLineFailure(try serve(arguments, environment: environment), status: 2, mentioning: "invalid \(key)")
    }

    @Test("a key under 2048 bits in the keys dir stops start-up with exit 1")
    func smallKey() throws {
        let pem = try OpenSSLCommand.run(["genrsa", "-traditional", "1024"])
        try directory.write("keys/small.pem", pem)
        expectOneLineFailure(try serve(), status: 1, mentioning: "too small")
    }

    @Test("an unreadable key file stops start-up with exit 1, naming the file")
    func unreadableKey() throws {
        try directory.write("keys/broken.pem", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
        expectOneLineFailure(try serve(), status: 1, mentioning: "broken.pem")
    }

    @Test("a database path that cannot be opened stops start-up with exit 1")
    func badDatabase() throws {
        try FileManager.default.createDirectory(atPath: directory.path("adir.sqlite"), withIntermediateDirectories: true)
        expectOneLineFailure(try serve(environment: ["TESSERA_DATABASE": directory.path("adir.sqlite")]), status: 1, mentioning: "database")
        try directory.write("garbage.sqlite", String(repeating: "garbage ", count: 200))
        expectOneLineFailure(try serve(environment: ["TESSERA_DATABASE": directory.path("garbage.sqlite")]), status: 1, mentioning: "database")
    }

    @Test("a database directory without write permission stops start-up with exit 1", .enabled(if: getuid() != 0, "root can write anywhere"))
    func readOnlyDatabase() throws {
        try FileManager.default.createDirectory(atPath: directory.path("ro"), withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: directory.path("ro"))
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path("ro")) }
        expectOneLineFailure(try serve(environment: ["TESSERA_DATABASE": directory.path("ro/tessera.sqlite")]), status: 1, mentioning: "database")
    }

    @Test("a bad config file is refused with exit 2")
    func badConfig() throws {
        let file = try directory.write("tessera.yaml", "prot: 1\n")
        expectOneLineFailure(try serve(["--config", file]), status: 2, mentioning: "unknown setting")
    }

    @Test("migrate applies the migrations once and reports nothing to do the second time")
    func migrate() throws {
        let first = try TesseraBinary.run(["migrate", "--json"], in: directory.url, environment: baseEnvironment)
        #expect(first.status == 0, "\(first.stderr)")
        let applied = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        #expect((applied?["applied"] as? [String])?.first == "0001_signing_keys")
        let second = try TesseraBinary.run(["migrate", "--json"], in: directory.url, environment: baseEnvironment)
        #expect(second.status == 0)
        let again = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any]
        #expect((again?["applied"] as? [String]) == [])
    }

    @Test("--help exits 0 and shows an example")
    func help() throws {
        let result = try TesseraBinary.run(["serve", "--help"], in: directory.url)
        #expect(result.status == 0)
        #expect(result.stdout.contains("Example:"))
    }
}
